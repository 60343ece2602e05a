-- One row per conversation: what happened in it, with totals of the session metrics Genesys computes
-- (https://help.mypurecloud.com/articles/metric-definitions), in milliseconds, over every participant
-- of the conversation: handle = tHandle, talk = tTalk, hold = tHeld, after-call work = tAcw, wait (time
-- in queue) = tAcd. abandoned: a tAbandon metric (the customer left a queue before an agent answered);
-- transferred: an nTransferred metric above 0 (an agent transferred the conversation); queue_ids: every
-- queue it touched. These describe the conversation, not a queue or an agent: Genesys counts each
-- metric for the queue of the session that emitted it and in the interval of its emitDate, which
-- session_metrics and the KPI queries queue_performance / agent_performance do (docs/query.md).
-- Computed with array functions on each row rather than by unnesting and grouping, so a query of this
-- view reads each landed object once.
SELECT
    c.conversationId AS conversation_id,
    CAST(c.conversation_date AS DATE) AS conversation_date,
    from_iso8601_timestamp(c.conversationStart) AS conversation_start,
    from_iso8601_timestamp(c.conversationEnd) AS conversation_end,
    date_diff(
        'millisecond', from_iso8601_timestamp(c.conversationStart), from_iso8601_timestamp(c.conversationEnd)
    ) AS duration_ms,
    c.originatingDirection AS originating_direction,
    -- the customer's media type (voice, callback, chat, email, message, ...), else any session's
    coalesce(element_at(c.customer_media_types, 1), element_at(c.session_media_types, 1)) AS media_type,
    array_sort(array_distinct(filter(transform(c.all_segments, g -> g.queueId), q -> q IS NOT NULL))) AS queue_ids,
    c.divisionIds AS division_ids,
    coalesce(
        reduce(filter(c.all_metrics, m -> m.name = 'tHandle'), CAST(0 AS BIGINT), (total, m) -> total + coalesce(m.value, 0), total -> total),
        0
    ) AS handle_ms,
    coalesce(
        reduce(filter(c.all_metrics, m -> m.name = 'tTalk'), CAST(0 AS BIGINT), (total, m) -> total + coalesce(m.value, 0), total -> total),
        0
    ) AS talk_ms,
    coalesce(
        reduce(filter(c.all_metrics, m -> m.name = 'tHeld'), CAST(0 AS BIGINT), (total, m) -> total + coalesce(m.value, 0), total -> total),
        0
    ) AS hold_ms,
    coalesce(
        reduce(filter(c.all_metrics, m -> m.name = 'tAcw'), CAST(0 AS BIGINT), (total, m) -> total + coalesce(m.value, 0), total -> total),
        0
    ) AS acw_ms,
    coalesce(
        reduce(filter(c.all_metrics, m -> m.name = 'tAcd'), CAST(0 AS BIGINT), (total, m) -> total + coalesce(m.value, 0), total -> total),
        0
    ) AS wait_ms,
    coalesce(cardinality(filter(c.all_metrics, m -> m.name = 'tAbandon')), 0) > 0 AS abandoned,
    coalesce(cardinality(filter(c.all_metrics, m -> m.name = 'nTransferred' AND m.value > 0)), 0) > 0 AS transferred,
    array_sort(array_distinct(filter(transform(c.all_segments, g -> g.wrapUpCode), w -> w IS NOT NULL))) AS wrap_up_codes,
    cardinality(c.participants) AS participant_count,
    c.mediaStatsMinConversationMos AS min_mos,
    c.mediaStatsMinConversationRFactor AS min_r_factor
FROM (
    SELECT
        d.*,
        flatten(transform(d.participants, p -> flatten(transform(p.sessions, s -> s.metrics)))) AS all_metrics,
        flatten(transform(d.participants, p -> flatten(transform(p.sessions, s -> s.segments)))) AS all_segments,
        flatten(transform(d.participants, p -> transform(p.sessions, s -> s.mediaType))) AS session_media_types,
        flatten(
            transform(
                filter(d.participants, p -> p.purpose IN ('customer', 'external')),
                p -> transform(p.sessions, s -> s.mediaType)
            )
        ) AS customer_media_types
    FROM conversation_details_latest AS d
) AS c
