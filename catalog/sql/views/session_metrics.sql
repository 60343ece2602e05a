-- One row per metric a session emitted (the AnalyticsSessionMetric model): names such as tHandle,
-- tTalk, tHeld, tAcw, tAcd, tAbandon, nTransferred; values in milliseconds for t*, counts for n*.
SELECT
    d.conversationId AS conversation_id,
    CAST(d.conversation_date AS DATE) AS conversation_date,
    p.participantId AS participant_id,
    p.purpose AS purpose,
    p.userId AS user_id,
    s.sessionId AS session_id,
    s.mediaType AS media_type,
    m.name AS metric_name,
    m.value AS metric_value,
    from_iso8601_timestamp(m.emitDate) AS emit_date
FROM conversation_details_latest AS d
CROSS JOIN UNNEST(d.participants) AS p
CROSS JOIN UNNEST(p.sessions) AS s
CROSS JOIN UNNEST(s.metrics) AS m
