-- The landed JSON objects with one row per conversation and day, and conversation_date as a date. An
-- object's key is its conversation's start day and id, so every copy of a conversation lands in the
-- same day's partition: the window looks within a day (PARTITION BY conversation_date first), so a
-- filter on conversation_date above this view reads only that day's objects. Should a conversation's
-- conversationStart move to another UTC day between two fetches, it lands in both days, each copy
-- shown on its own day (docs/query.md, "Tables and views"). "$file_modified_time" and "$path" are hidden
-- columns of every Hive table in Trino and so in Athena
-- (https://trino.io/docs/current/connector/hive.html, "Metadata columns").
-- A row without a conversationId is no conversation (an object the SerDe could not read comes back as
-- a row of NULLs: docs/query.md, "Malformed objects") and is left out.
-- The compaction of a day writes this view's rows of that day (catalog/sqlsource.py, compaction_select).
SELECT {columns}, conversation_date
FROM (
    SELECT
        {columns},
        conversation_date,
        row_number() OVER (
            PARTITION BY conversation_date, lower(conversationId)
            ORDER BY file_modified_time DESC, file_path DESC
        ) AS copy_rank
    FROM (
        SELECT
            {d.columns},
            CAST(d.conversation_date AS DATE) AS conversation_date,
            d."$file_modified_time" AS file_modified_time,
            d."$path" AS file_path
        FROM conversation_details AS d
        WHERE d.conversationId IS NOT NULL
    ) AS landed
) AS ranked
WHERE copy_rank = 1
