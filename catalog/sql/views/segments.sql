-- One row per segment of a session (the AnalyticsConversationSegment model): what happened when, in
-- which queue, and the wrap-up code an agent chose. The rows of catalog/sql/flat/segments.sql, read
-- from the compacted days' flat Parquet (segments_compacted, while a day has its marker) and computed
-- from the landed objects of every other day, so a day is never read twice or not at all.
SELECT
    x.conversation_id,
    x.conversation_date,
    x.participant_id,
    x.purpose,
    x.user_id,
    x.session_id,
    x.media_type,
    x.segment_type,
    CAST(x.segment_start AS TIMESTAMP(3) WITH TIME ZONE) AS segment_start,
    CAST(x.segment_end AS TIMESTAMP(3) WITH TIME ZONE) AS segment_end,
    x.duration_ms,
    x.queue_id,
    x.group_id,
    x.disconnect_type,
    x.error_code,
    x.wrap_up_code,
    x.wrap_up_note,
    x.wrap_up_tags,
    x.conference,
    x.requested_routing_skill_ids,
    x.requested_language_id,
    x.subject,
    x.source_conversation_id,
    x.destination_conversation_id
FROM (
    {segments.landed}
    UNION ALL
    SELECT {c.segments.columns}, CAST(c.conversation_date AS DATE) AS conversation_date
    FROM segments_compacted AS c
    WHERE CAST(c.conversation_date AS DATE) IN (SELECT CAST(m.conversation_date AS DATE) FROM compaction_markers AS m)
) AS x
