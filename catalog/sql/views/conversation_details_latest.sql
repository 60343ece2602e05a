-- One row per conversation and day: a compacted day's rows from its Parquet files, any other day's from
-- its landed JSON objects (conversation_details_uncompacted), so a day is never read twice or not at
-- all. A day counts as compacted while its marker exists: the compaction removes the marker before it
-- touches the day's Parquet and writes it back last (genesys_bridge/compaction.py). The day list of
-- each side is a semi-join on the partition column, which Athena can use to skip the other days'
-- objects altogether (dynamic partition pruning); a filter on conversation_date above this view prunes
-- both sides statically (docs/query.md, "Cost").
SELECT {columns}, conversation_date, 1 AS copy_rank
FROM conversation_details_uncompacted
UNION ALL
SELECT {c.columns}, CAST(c.conversation_date AS DATE) AS conversation_date, 1 AS copy_rank
FROM conversation_details_compacted AS c
WHERE CAST(c.conversation_date AS DATE) IN (SELECT CAST(m.conversation_date AS DATE) FROM compaction_markers AS m)
