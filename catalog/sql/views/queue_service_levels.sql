-- One row per queue and media type with a service level goal (the queues view's per-media columns,
-- one media type a row): answer service_level_pct_goal % of the interactions within
-- service_level_target_s seconds. media_type is the details' name (voice, callback, chat, email,
-- message); queue_performance joins here for each queue's own target.
SELECT *
FROM (
    SELECT
        q.queue_id,
        q.queue_name,
        m.media_type,
        CASE m.media_type
            WHEN 'voice' THEN q.voice_service_level_target_s
            WHEN 'callback' THEN q.callback_service_level_target_s
            WHEN 'chat' THEN q.chat_service_level_target_s
            WHEN 'email' THEN q.email_service_level_target_s
            WHEN 'message' THEN q.message_service_level_target_s
        END AS service_level_target_s,
        CASE m.media_type
            WHEN 'voice' THEN q.voice_service_level_pct_goal
            WHEN 'callback' THEN q.callback_service_level_pct_goal
            WHEN 'chat' THEN q.chat_service_level_pct_goal
            WHEN 'email' THEN q.email_service_level_pct_goal
            WHEN 'message' THEN q.message_service_level_pct_goal
        END AS service_level_pct_goal,
        q.deleted
    FROM queues AS q
    CROSS JOIN (VALUES 'voice', 'callback', 'chat', 'email', 'message') AS m (media_type)
) AS per_media
WHERE service_level_target_s IS NOT NULL
