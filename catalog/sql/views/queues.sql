-- One row per queue the lookups sync has seen, in its latest known version (docs/query.md, "Lookups"):
-- its name, division, members and, per media type, the queue's own service level goal: answer
-- service_level_pct_goal % of the interactions within service_level_target_s seconds (Genesys'
-- mediaSettings.<media>.serviceLevel, percentage 0..1 and durationMs; a queue's `call` is the details'
-- `voice`). deleted: the queue is missing from the latest snapshot (Genesys lists no deleted queue);
-- snapshot_date: the latest snapshot holding this version. service_level_target_s and
-- service_level_pct_goal are the voice (call) goal; every media's goal is in its own columns, and in
-- queue_service_levels one row per queue and media type.
SELECT
    v.id AS queue_id,
    v.name AS queue_name,
    v.division.id AS division_id,
    v.division.name AS division_name,
    v.description AS description,
    v.memberCount AS member_count,
    CAST(v.mediaSettings.call.serviceLevel.durationMs AS DOUBLE) / 1000 AS service_level_target_s,
    v.mediaSettings.call.serviceLevel.percentage * 100 AS service_level_pct_goal,
    CAST(v.mediaSettings.call.serviceLevel.durationMs AS DOUBLE) / 1000 AS voice_service_level_target_s,
    v.mediaSettings.call.serviceLevel.percentage * 100 AS voice_service_level_pct_goal,
    CAST(v.mediaSettings.callback.serviceLevel.durationMs AS DOUBLE) / 1000 AS callback_service_level_target_s,
    v.mediaSettings.callback.serviceLevel.percentage * 100 AS callback_service_level_pct_goal,
    CAST(v.mediaSettings.chat.serviceLevel.durationMs AS DOUBLE) / 1000 AS chat_service_level_target_s,
    v.mediaSettings.chat.serviceLevel.percentage * 100 AS chat_service_level_pct_goal,
    CAST(v.mediaSettings.email.serviceLevel.durationMs AS DOUBLE) / 1000 AS email_service_level_target_s,
    v.mediaSettings.email.serviceLevel.percentage * 100 AS email_service_level_pct_goal,
    CAST(v.mediaSettings.message.serviceLevel.durationMs AS DOUBLE) / 1000 AS message_service_level_target_s,
    v.mediaSettings.message.serviceLevel.percentage * 100 AS message_service_level_pct_goal,
    v.snapshot_date < v.latest_snapshot AS deleted,
    CAST(v.snapshot_date AS DATE) AS snapshot_date
FROM (
    SELECT
        s.*,
        row_number() OVER (PARTITION BY s.id ORDER BY s.snapshot_date DESC) AS newest_first,
        max(s.snapshot_date) OVER () AS latest_snapshot
    FROM queues_snapshots AS s
    WHERE s.id IS NOT NULL
) AS v
WHERE v.newest_first = 1
