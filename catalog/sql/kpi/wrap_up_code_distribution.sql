-- How often each wrap-up code was chosen per day, and its share of that day's coded conversations.
SELECT
    c.conversation_date,
    w.wrap_up_code,
    count(*) AS conversations,
    round(100 * CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY c.conversation_date), 2) AS share_pct
FROM conversations AS c
CROSS JOIN UNNEST(c.wrap_up_codes) AS w (wrap_up_code)
GROUP BY c.conversation_date, w.wrap_up_code
ORDER BY c.conversation_date, conversations DESC, w.wrap_up_code
