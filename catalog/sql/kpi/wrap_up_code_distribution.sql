-- How often each wrap-up code was chosen per interval day and queue, and its share of that day's coded
-- wrap-ups in the queue. A wrap-up counts on the day its wrap-up segment ended (when the agent's tAcw
-- is emitted, kpi_settings.interval_time_zone), for the queue of its segment (none: an agent's own
-- outbound call). The queue's and the code's names are those of the latest lookups snapshot (NULL
-- before the first lookups sync).
WITH coded AS (
    SELECT
        CAST(at_timezone(g.segment_end, k.interval_time_zone) AS DATE) AS interval_date,
        g.queue_id,
        g.wrap_up_code
    FROM segments AS g
    CROSS JOIN kpi_settings AS k
    WHERE g.segment_type = 'wrapup' AND g.wrap_up_code IS NOT NULL AND g.segment_end IS NOT NULL
        -- The report period's conversations, as queue_performance reads them (docs/query.md, "A period")
        AND (k.first_interval_day = ''
            OR g.conversation_date >= date_add('day', -1, TRY_CAST(k.first_interval_day AS DATE)))
        AND (k.last_interval_day = ''
            OR g.conversation_date <= date_add('day', 1, TRY_CAST(k.last_interval_day AS DATE)))
        AND (k.last_interval_day = '' OR k.interval_time_zone <> 'UTC'
            OR g.conversation_date <= TRY_CAST(k.last_interval_day AS DATE))
),
period AS (
    SELECT c.interval_date, c.queue_id, c.wrap_up_code
    FROM coded AS c
    CROSS JOIN kpi_settings AS k
    WHERE (k.first_interval_day = '' OR c.interval_date >= TRY_CAST(k.first_interval_day AS DATE))
        AND (k.last_interval_day = '' OR c.interval_date <= TRY_CAST(k.last_interval_day AS DATE))
),
uses AS (
    SELECT
        interval_date,
        queue_id,
        wrap_up_code,
        count(*) AS uses,
        round(
            100 * CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY interval_date, queue_id), 2
        ) AS share_pct
    FROM period
    GROUP BY interval_date, queue_id, wrap_up_code
)
SELECT
    u.interval_date,
    u.queue_id,
    q.queue_name,
    u.wrap_up_code,
    w.wrapup_code_name AS wrap_up_code_name,
    u.uses,
    u.share_pct
FROM uses AS u
LEFT JOIN queues AS q ON q.queue_id = u.queue_id
LEFT JOIN wrapup_codes AS w ON w.wrapup_code_id = u.wrap_up_code
ORDER BY u.interval_date, u.queue_id, u.uses DESC, u.wrap_up_code
