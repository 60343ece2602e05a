-- One row per metric a session emitted (the AnalyticsSessionMetric model), with the queue and the day
-- it counts for, as Genesys' performance views count it (docs/query.md, "KPI definitions"): the rows
-- of catalog/sql/flat/session_metrics.sql (which says how queue_id is found), read from the compacted
-- days' flat Parquet (session_metrics_compacted, while a day has its marker) and computed from the
-- landed objects of every other day, so a day is never read twice or not at all
-- (conversation_details_latest does the same for whole conversations).
-- interval_date: the day of emitDate in kpi_settings.interval_time_zone (UTC unless changed).
SELECT
    x.conversation_id,
    x.conversation_date,
    x.participant_id,
    x.purpose,
    x.user_id,
    x.session_id,
    x.session_key,
    x.media_type,
    x.metric_name,
    x.metric_value,
    CAST(x.emit_date AS TIMESTAMP(3) WITH TIME ZONE) AS emit_date,
    x.queue_id,
    CAST(at_timezone(CAST(x.emit_date AS TIMESTAMP(3) WITH TIME ZONE), k.interval_time_zone) AS DATE) AS interval_date
FROM (
    {session_metrics.landed}
    UNION ALL
    SELECT {c.session_metrics.columns}, CAST(c.conversation_date AS DATE) AS conversation_date
    FROM session_metrics_compacted AS c
    WHERE CAST(c.conversation_date AS DATE) IN (SELECT CAST(m.conversation_date AS DATE) FROM compaction_markers AS m)
) AS x
CROSS JOIN kpi_settings AS k
