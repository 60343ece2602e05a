-- How often each wrap-up code was chosen per interval day and queue, and its share of that day's coded
-- wrap-ups in the queue. A wrap-up counts on the day its wrap-up segment ended (when the agent's tAcw
-- is emitted, kpi_settings.interval_time_zone), for the queue of its segment (none: an agent's own
-- outbound call).
WITH coded AS (
    SELECT
        CAST(at_timezone(g.segment_end, k.interval_time_zone) AS DATE) AS interval_date,
        g.queue_id,
        g.wrap_up_code
    FROM segments AS g
    CROSS JOIN kpi_settings AS k
    WHERE g.segment_type = 'wrapup' AND g.wrap_up_code IS NOT NULL AND g.segment_end IS NOT NULL
)
SELECT
    interval_date,
    queue_id,
    wrap_up_code,
    count(*) AS uses,
    round(
        100 * CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY interval_date, queue_id), 2
    ) AS share_pct
FROM coded
GROUP BY interval_date, queue_id, wrap_up_code
ORDER BY interval_date, queue_id, uses DESC, wrap_up_code
