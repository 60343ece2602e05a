-- Abandon rate per day and queue: abandoned / offered, as Genesys defines "Abandon %"
-- (https://help.mypurecloud.com/articles/metric-definitions); offered = entered a queue.
SELECT
    conversation_date,
    queue_id,
    count(*) AS offered,
    count_if(abandoned) AS abandoned,
    round(100 * CAST(count_if(abandoned) AS DOUBLE) / count(*), 2) AS abandon_pct
FROM conversations
WHERE queue_id IS NOT NULL
GROUP BY conversation_date, queue_id
ORDER BY conversation_date, queue_id
