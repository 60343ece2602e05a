-- Average handle time per day and queue over the conversations an agent handled (tHandle above 0),
-- with its parts: talk, hold and after-call work, in seconds.
SELECT
    conversation_date,
    queue_id,
    count(*) AS handled,
    round(avg(handle_ms) / 1000.0, 1) AS avg_handle_s,
    round(avg(talk_ms) / 1000.0, 1) AS avg_talk_s,
    round(avg(hold_ms) / 1000.0, 1) AS avg_hold_s,
    round(avg(acw_ms) / 1000.0, 1) AS avg_acw_s
FROM conversations
WHERE handle_ms > 0
GROUP BY conversation_date, queue_id
ORDER BY conversation_date, queue_id
