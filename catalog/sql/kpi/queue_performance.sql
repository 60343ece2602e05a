-- Queue performance per interval day, queue and media type, as Genesys' queue performance views count
-- it (docs/query.md, "KPI definitions", with the Resource Center pages each figure follows). Every
-- figure is a count, sum or mean of the session metrics counted for that queue and day by
-- session_metrics (the queue of the session that emitted the metric, the day of its emitDate):
-- offered = nOffered; answered = tAnswered count; abandoned = tAbandon count (short abandons
-- included); short_abandoned = tShortAbandon count; flowed_out = tFlowOut count; handled = tHandle
-- count; avg_handle_s = mean tHandle; avg_talk_s, avg_hold_s, avg_acw_s = total tTalk, tHeld, tAcw over
-- the interactions (sessions, counted by session_key) that have any (a session emits one tTalk or
-- tHeld per talk or hold segment); avg_speed_of_answer_s = mean tAnswered; transferred =
-- nTransferred; abandon_pct = abandoned / offered; transfer_pct = transferred / answered;
-- service_level_pct = (answered - answered over the target) / (answered + abandoned + flow-outs, as
-- kpi_settings' three options say),
-- answered over the target meaning tAnswered above it, the target being the queue's own for the media
-- type (queue_service_levels) or kpi_settings.default_service_level_target_s.
WITH queue_metrics AS (
    SELECT
        interval_date,
        queue_id,
        media_type,
        metric_name,
        metric_value,
        session_key
    FROM session_metrics AS m
    CROSS JOIN kpi_settings AS k
    WHERE queue_id IS NOT NULL
        AND metric_name IN (
            'nOffered', 'tAnswered', 'tAbandon', 'tShortAbandon', 'tFlowOut',
            'tHandle', 'tTalk', 'tHeld', 'tAcw', 'nTransferred'
        )
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
-- Each queue's own service level goal per media type, from the queue's settings (Genesys' "Create
-- queues") in its latest lookups snapshot (queue_service_levels); a queue without one, or before the
-- first lookups sync, gets kpi_settings.default_service_level_target_s.
queue_service_level_targets AS (
    SELECT
        queue_id,
        media_type,
        service_level_target_s AS target_s,
        service_level_pct_goal AS pct_goal
    FROM queue_service_levels
),
counted AS (
    SELECT
        m.interval_date,
        m.queue_id,
        m.media_type,
        coalesce(t.target_s, k.default_service_level_target_s) AS target_s,
        t.pct_goal,
        coalesce(sum(m.metric_value) FILTER (WHERE m.metric_name = 'nOffered'), 0) AS offered,
        count_if(m.metric_name = 'tAnswered') AS answered,
        count_if(
            m.metric_name = 'tAnswered'
            AND m.metric_value > 1000 * coalesce(t.target_s, k.default_service_level_target_s)
        ) AS answered_over_target,
        count_if(m.metric_name = 'tAbandon') AS abandoned,
        count_if(m.metric_name = 'tShortAbandon') AS short_abandoned,
        count_if(m.metric_name = 'tFlowOut') AS flowed_out,
        count_if(m.metric_name = 'tHandle') AS handled,
        sum(m.metric_value) FILTER (WHERE m.metric_name = 'tHandle') AS handle_ms,
        sum(m.metric_value) FILTER (WHERE m.metric_name = 'tTalk') AS talk_ms,
        count(DISTINCT CASE WHEN m.metric_name = 'tTalk' THEN m.session_key END) AS talking,
        sum(m.metric_value) FILTER (WHERE m.metric_name = 'tHeld') AS hold_ms,
        count(DISTINCT CASE WHEN m.metric_name = 'tHeld' THEN m.session_key END) AS holding,
        sum(m.metric_value) FILTER (WHERE m.metric_name = 'tAcw') AS acw_ms,
        count(DISTINCT CASE WHEN m.metric_name = 'tAcw' THEN m.session_key END) AS wrapping_up,
        avg(m.metric_value) FILTER (WHERE m.metric_name = 'tAnswered') AS answer_ms,
        coalesce(sum(m.metric_value) FILTER (WHERE m.metric_name = 'nTransferred'), 0) AS transferred
    FROM queue_metrics AS m
    CROSS JOIN kpi_settings AS k
    LEFT JOIN queue_service_level_targets AS t
        ON t.queue_id = m.queue_id AND t.media_type = m.media_type
    GROUP BY
        m.interval_date,
        m.queue_id,
        m.media_type,
        coalesce(t.target_s, k.default_service_level_target_s),
        t.pct_goal
)
SELECT
    c.interval_date,
    c.queue_id,
    -- the queue's name in its latest lookups snapshot (NULL before the first lookups sync)
    q.queue_name,
    c.media_type,
    c.offered,
    c.answered,
    c.abandoned,
    c.short_abandoned,
    c.flowed_out,
    round(100 * CAST(c.abandoned AS DOUBLE) / nullif(c.offered, 0), 2) AS abandon_pct,
    c.handled,
    round(CAST(c.handle_ms AS DOUBLE) / nullif(c.handled, 0) / 1000, 1) AS avg_handle_s,
    round(CAST(c.talk_ms AS DOUBLE) / nullif(c.talking, 0) / 1000, 1) AS avg_talk_s,
    round(CAST(c.hold_ms AS DOUBLE) / nullif(c.holding, 0) / 1000, 1) AS avg_hold_s,
    round(CAST(c.acw_ms AS DOUBLE) / nullif(c.wrapping_up, 0) / 1000, 1) AS avg_acw_s,
    round(c.answer_ms / 1000, 1) AS avg_speed_of_answer_s,
    c.transferred,
    round(100 * CAST(c.transferred AS DOUBLE) / nullif(c.answered, 0), 2) AS transfer_pct,
    c.target_s AS service_level_target_s,
    c.pct_goal AS service_level_pct_goal,
    round(
        100 * CAST(c.answered - c.answered_over_target AS DOUBLE) / nullif(
            c.answered
            + CASE
                WHEN NOT k.service_level_include_abandons THEN 0
                WHEN k.service_level_include_short_abandons THEN c.abandoned
                ELSE c.abandoned - c.short_abandoned
            END
            + CASE WHEN k.service_level_include_flow_outs THEN c.flowed_out ELSE 0 END,
            0
        ),
        2
    ) AS service_level_pct
FROM counted AS c
CROSS JOIN kpi_settings AS k
LEFT JOIN queues AS q ON q.queue_id = c.queue_id
ORDER BY c.interval_date, c.queue_id, c.media_type
