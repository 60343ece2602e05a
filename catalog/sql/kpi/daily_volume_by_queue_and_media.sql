-- Conversations per day, by the queue they entered first and their media type.
SELECT
    conversation_date,
    queue_id,
    media_type,
    count(*) AS conversations
FROM conversations
GROUP BY conversation_date, queue_id, media_type
ORDER BY conversation_date, conversations DESC, queue_id, media_type
