-- Agent performance per interval day and agent (user_id), as Genesys' agent performance views count
-- it (docs/query.md, "KPI definitions"): the session metrics of every session of that user, each in
-- the interval of its emitDate, whatever queue (or none: an agent's own outbound call) it came from.
-- answered = tAnswered count; handled = tHandle count; avg_handle_s = mean tHandle; avg_talk_s,
-- avg_hold_s, avg_acw_s = total tTalk, tHeld, tAcw over the interactions (sessions, counted by
-- session_key) that have any; transferred = nTransferred. The same definitions as queue_performance's.
WITH agent_metrics AS (
    SELECT
        interval_date,
        user_id,
        metric_name,
        metric_value,
        session_key
    FROM session_metrics AS m
    CROSS JOIN kpi_settings AS k
    WHERE user_id IS NOT NULL
        AND metric_name IN ('tAnswered', 'tHandle', 'tTalk', 'tHeld', 'tAcw', 'nTransferred')
        -- The report period (kpi_settings.first_interval_day / last_interval_day, empty: open): its
        -- interval days, read from the conversations that started on them or the day before (and the
        -- day after in a time zone other than UTC), so only those days' objects are read; a metric of
        -- a conversation started two or more days before it is left out (docs/query.md, "A period").
        AND (k.first_interval_day = '' OR m.interval_date >= TRY_CAST(k.first_interval_day AS DATE))
        AND (k.first_interval_day = ''
            OR m.conversation_date >= date_add('day', -1, TRY_CAST(k.first_interval_day AS DATE)))
        AND (k.last_interval_day = '' OR m.interval_date <= TRY_CAST(k.last_interval_day AS DATE))
        AND (k.last_interval_day = ''
            OR m.conversation_date <= date_add('day', 1, TRY_CAST(k.last_interval_day AS DATE)))
        AND (k.last_interval_day = '' OR k.interval_time_zone <> 'UTC'
            OR m.conversation_date <= TRY_CAST(k.last_interval_day AS DATE))
),
figures AS (
    SELECT
        interval_date,
        user_id,
        count_if(metric_name = 'tAnswered') AS answered,
        count_if(metric_name = 'tHandle') AS handled,
        round(avg(metric_value) FILTER (WHERE metric_name = 'tHandle') / 1000, 1) AS avg_handle_s,
        round(
            CAST(sum(metric_value) FILTER (WHERE metric_name = 'tTalk') AS DOUBLE)
            / nullif(count(DISTINCT CASE WHEN metric_name = 'tTalk' THEN session_key END), 0) / 1000,
            1
        ) AS avg_talk_s,
        round(
            CAST(sum(metric_value) FILTER (WHERE metric_name = 'tHeld') AS DOUBLE)
            / nullif(count(DISTINCT CASE WHEN metric_name = 'tHeld' THEN session_key END), 0) / 1000,
            1
        ) AS avg_hold_s,
        round(
            CAST(sum(metric_value) FILTER (WHERE metric_name = 'tAcw') AS DOUBLE)
            / nullif(count(DISTINCT CASE WHEN metric_name = 'tAcw' THEN session_key END), 0) / 1000,
            1
        ) AS avg_acw_s,
        coalesce(sum(metric_value) FILTER (WHERE metric_name = 'nTransferred'), 0) AS transferred
    FROM agent_metrics
    GROUP BY interval_date, user_id
)
SELECT
    f.interval_date,
    f.user_id,
    -- the agent's name in the latest lookups snapshot (NULL before the first lookups sync)
    u.user_name,
    f.answered,
    f.handled,
    f.avg_handle_s,
    f.avg_talk_s,
    f.avg_hold_s,
    f.avg_acw_s,
    f.transferred
FROM figures AS f
LEFT JOIN users AS u ON u.user_id = f.user_id
ORDER BY f.interval_date, f.user_id
