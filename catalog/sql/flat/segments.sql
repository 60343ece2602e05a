-- One row per segment of a session (the AnalyticsConversationSegment model) of the conversations it
-- reads (FROM ... AS d below): what the compaction writes of a day as compacted/segments/ (from the
-- day's compacted conversations) and what the segments view computes for a day not compacted (from its
-- landed objects).
-- segment_start, segment_end: UTC timestamps (Athena's UNLOAD writes no timestamp with time zone; the
-- view adds it).
SELECT
    d.conversationId AS conversation_id,
    p.participantId AS participant_id,
    p.purpose AS purpose,
    p.userId AS user_id,
    s.sessionId AS session_id,
    s.mediaType AS media_type,
    g.segmentType AS segment_type,
    CAST(from_iso8601_timestamp(g.segmentStart) AS TIMESTAMP) AS segment_start,
    CAST(from_iso8601_timestamp(g.segmentEnd) AS TIMESTAMP) AS segment_end,
    date_diff(
        'millisecond', from_iso8601_timestamp(g.segmentStart), from_iso8601_timestamp(g.segmentEnd)
    ) AS duration_ms,
    g.queueId AS queue_id,
    g.groupId AS group_id,
    g.disconnectType AS disconnect_type,
    g.errorCode AS error_code,
    g.wrapUpCode AS wrap_up_code,
    g.wrapUpNote AS wrap_up_note,
    g.wrapUpTags AS wrap_up_tags,
    g.conference AS conference,
    g.requestedRoutingSkillIds AS requested_routing_skill_ids,
    g.requestedLanguageId AS requested_language_id,
    g.subject AS subject,
    g.sourceConversationId AS source_conversation_id,
    g.destinationConversationId AS destination_conversation_id,
    CAST(d.conversation_date AS DATE) AS conversation_date
FROM {details} AS d
CROSS JOIN UNNEST(d.participants) AS p
CROSS JOIN UNNEST(p.sessions) AS s
CROSS JOIN UNNEST(s.segments) AS g
