-- One row per metric a session emitted (the AnalyticsSessionMetric model) of the conversations it
-- reads (FROM ... AS d below): what the compaction writes of a day as compacted/session_metrics/ (from
-- the day's compacted conversations) and what the session_metrics view computes for a day not compacted
-- (from its landed objects).
-- Names such as nOffered, tAnswered, tAbandon, tShortAbandon, tFlowOut, tHandle,
-- tTalk, tHeld, tAcw, nTransferred; values in milliseconds for t*, counts for n*.
-- session_key: a number per session, unique across days (the day's number since 1970 times 10^10 plus
-- the session's rank in its day), so a KPI counts interactions with count(DISTINCT session_key): a
-- column of ascending numbers costs Athena a fraction of the bytes of the session ids.
-- emit_date: a UTC timestamp (Athena's UNLOAD writes no timestamp with time zone; the view adds it).
-- queue_id: the queueId of the segment of the metric's own session during which it was emitted
--   (segmentStart <= emitDate <= segmentEnd; a segment without an end is still running). Where two
--   such segments meet, nOffered (emitted as the session enters a queue) goes to the segment that
--   starts there and any other metric (emitted as something ends) to the one that ends there. A metric
--   emitted outside every queue segment of its session goes to the last one that started before it,
--   else the first after it. A session without a queueId (an agent's own outbound call) has none.
-- The sort key below ranks a session's queue segments for one metric in that order: a covering
-- segment first (0...), then one that started before (11...), then one after (21...); the digits
-- after the rank order by the segment's start relative to emitDate, in milliseconds.
SELECT
    x.conversation_id,
    x.participant_id,
    x.purpose,
    x.user_id,
    x.session_id,
    x.session_key,
    x.media_type,
    x.metric_name,
    x.metric_value,
    CAST(x.emit_date AS TIMESTAMP) AS emit_date,
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
    x.conversation_date
FROM (
    SELECT
        d.conversationId AS conversation_id,
        CAST(d.conversation_date AS DATE) AS conversation_date,
        p.participantId AS participant_id,
        p.purpose AS purpose,
        p.userId AS user_id,
        s.sessionId AS session_id,
        CASE WHEN s.sessionId IS NOT NULL THEN
            date_diff('day', DATE '1970-01-01', CAST(d.conversation_date AS DATE)) * 10000000000
            + dense_rank() OVER (
                PARTITION BY CAST(d.conversation_date AS DATE) ORDER BY d.conversationId, s.sessionId
            )
        END AS session_key,
        s.mediaType AS media_type,
        s.segments AS segments,
        m.name AS metric_name,
        m.value AS metric_value,
        from_iso8601_timestamp(m.emitDate) AS emit_date
    FROM {details} AS d
    CROSS JOIN UNNEST(d.participants) AS p
    CROSS JOIN UNNEST(p.sessions) AS s
    CROSS JOIN UNNEST(s.metrics) AS m
) AS x
