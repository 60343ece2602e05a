-- Per day: conversations, average handle time, abandon rate and the three most used wrap-up codes
-- (what `make demo` prints at its end). Reads the conversations view twice (totals and codes).
WITH daily AS (
    SELECT
        conversation_date,
        count(*) AS conversations,
        round(avg(CASE WHEN handle_ms > 0 THEN handle_ms END) / 1000.0, 1) AS avg_handle_s,
        round(
            100 * CAST(count_if(abandoned) AS DOUBLE) / nullif(count_if(queue_id IS NOT NULL), 0), 2
        ) AS abandon_pct
    FROM conversations
    GROUP BY conversation_date
),
ranked_codes AS (
    SELECT
        c.conversation_date,
        w.wrap_up_code,
        count(*) AS uses,
        row_number() OVER (
            PARTITION BY c.conversation_date ORDER BY count(*) DESC, w.wrap_up_code
        ) AS code_rank
    FROM conversations AS c
    CROSS JOIN UNNEST(c.wrap_up_codes) AS w (wrap_up_code)
    GROUP BY c.conversation_date, w.wrap_up_code
)
SELECT
    d.conversation_date,
    d.conversations,
    d.avg_handle_s,
    d.abandon_pct,
    array_join(
        array_agg(r.wrap_up_code || ' (' || CAST(r.uses AS VARCHAR) || ')' ORDER BY r.code_rank)
            FILTER (WHERE r.wrap_up_code IS NOT NULL),
        ', '
    ) AS top_wrap_up_codes
FROM daily AS d
LEFT JOIN ranked_codes AS r
    ON r.conversation_date = d.conversation_date AND r.code_rank <= 3
GROUP BY d.conversation_date, d.conversations, d.avg_handle_s, d.abandon_pct
ORDER BY d.conversation_date
