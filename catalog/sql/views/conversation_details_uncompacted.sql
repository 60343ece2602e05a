-- The landed conversations of the days without a compaction marker (uncompacted_days): what the views
-- read from the JSON objects, every other day being read from its compacted Parquet. A semi-join on the
-- partition column, which Athena can use to skip the compacted days' objects altogether (dynamic
-- partition pruning); a filter on conversation_date above this view prunes it statically
-- (docs/query.md, "Cost").
SELECT {columns}, conversation_date
FROM conversation_details_landed
WHERE conversation_date IN (SELECT u.conversation_date FROM uncompacted_days AS u)
