-- Transfer rate per day and queue: the share of handled conversations an agent transferred.
SELECT
    conversation_date,
    queue_id,
    count(*) AS handled,
    count_if(transferred) AS transferred,
    round(100 * CAST(count_if(transferred) AS DOUBLE) / count(*), 2) AS transfer_pct
FROM conversations
WHERE handle_ms > 0
GROUP BY conversation_date, queue_id
ORDER BY conversation_date, queue_id
