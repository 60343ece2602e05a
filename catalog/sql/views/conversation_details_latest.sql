-- The details table with one row per conversation. A conversation is landed again at the same key
-- (a redelivery overwrites its object), but it lands under a second key if its conversationStart
-- moved to another UTC day between two fetches: then the copy written last wins. "$file_modified_time"
-- and "$path" are hidden columns of every Hive table in Trino and so in Athena
-- (https://trino.io/docs/current/connector/hive.html, "Metadata columns").
-- The window looks across days, so a filter on conversation_date above this view cannot prune
-- partitions: docs/query.md, "Cost", shows how to read one day cheaply.
-- A row without a conversationId is no conversation (an object the SerDe could not read comes back
-- as a row of NULLs: docs/query.md, "Malformed objects") and is left out.
SELECT *
FROM (
    SELECT
        d.*,
        row_number() OVER (
            PARTITION BY lower(d.conversationId)
            ORDER BY d."$file_modified_time" DESC, d."$path" DESC
        ) AS copy_rank
    FROM conversation_details AS d
    WHERE d.conversationId IS NOT NULL
) AS ranked
WHERE copy_rank = 1
