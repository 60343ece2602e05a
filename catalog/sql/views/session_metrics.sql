-- One row per metric a session emitted (the AnalyticsSessionMetric model): names such as nOffered,
-- tAnswered, tAbandon, tShortAbandon, tFlowOut, tHandle, tTalk, tHeld, tAcw, nTransferred; values in
-- milliseconds for t*, counts for n*. Each row also says where the metric counts, as Genesys'
-- performance views count it (docs/query.md, "KPI definitions"):
-- queue_id: the queueId of the segment of the metric's own session during which it was emitted
--   (segmentStart <= emitDate <= segmentEnd; a segment without an end is still running). Where two
--   such segments meet, nOffered (emitted as the session enters a queue) goes to the segment that
--   starts there and any other metric (emitted as something ends) to the one that ends there. A metric
--   emitted outside every queue segment of its session goes to the last one that started before it,
--   else the first after it. A session without a queueId (an agent's own outbound call) has none.
-- interval_date: the day of emitDate in kpi_settings.interval_time_zone (UTC unless changed).
-- The sort key below ranks a session's queue segments for one metric in that order: a covering
-- segment first (0...), then one that started before (11...), then one after (21...); the digits
-- after the rank order by the segment's start relative to emitDate, in milliseconds.
SELECT
    x.conversation_id,
    x.conversation_date,
    x.participant_id,
    x.purpose,
    x.user_id,
    x.session_id,
    x.media_type,
    x.metric_name,
    x.metric_value,
    x.emit_date,
    split_part(
        element_at(
            array_sort(
                transform(
                    filter(x.segments, g -> g.queueId IS NOT NULL AND g.segmentStart IS NOT NULL),
                    g -> lpad(
                        CAST(
                            CASE
                                WHEN from_iso8601_timestamp(g.segmentStart) <= x.emit_date
                                    AND (g.segmentEnd IS NULL OR x.emit_date <= from_iso8601_timestamp(g.segmentEnd))
                                    AND x.metric_name = 'nOffered'
                                    THEN 1000000000000 - date_diff('millisecond', x.emit_date, from_iso8601_timestamp(g.segmentStart))
                                WHEN from_iso8601_timestamp(g.segmentStart) <= x.emit_date
                                    AND (g.segmentEnd IS NULL OR x.emit_date <= from_iso8601_timestamp(g.segmentEnd))
                                    THEN 1000000000000 + date_diff('millisecond', x.emit_date, from_iso8601_timestamp(g.segmentStart))
                                WHEN from_iso8601_timestamp(g.segmentStart) <= x.emit_date
                                    THEN 11000000000000 - date_diff('millisecond', x.emit_date, from_iso8601_timestamp(g.segmentStart))
                                ELSE 21000000000000 + coalesce(date_diff('millisecond', x.emit_date, from_iso8601_timestamp(g.segmentStart)), 0)
                            END AS VARCHAR
                        ),
                        14,
                        '0'
                    ) || '|' || g.queueId
                )
            ),
            1
        ),
        '|',
        2
    ) AS queue_id,
    CAST(at_timezone(x.emit_date, k.interval_time_zone) AS DATE) AS interval_date
FROM (
    SELECT
        d.conversationId AS conversation_id,
        CAST(d.conversation_date AS DATE) AS conversation_date,
        p.participantId AS participant_id,
        p.purpose AS purpose,
        p.userId AS user_id,
        s.sessionId AS session_id,
        s.mediaType AS media_type,
        s.segments AS segments,
        m.name AS metric_name,
        m.value AS metric_value,
        from_iso8601_timestamp(m.emitDate) AS emit_date
    FROM conversation_details_latest AS d
    CROSS JOIN UNNEST(d.participants) AS p
    CROSS JOIN UNNEST(p.sessions) AS s
    CROSS JOIN UNNEST(s.metrics) AS m
) AS x
CROSS JOIN kpi_settings AS k
