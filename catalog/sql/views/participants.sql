-- One row per participant of a conversation (the AnalyticsParticipant model).
SELECT
    d.conversationId AS conversation_id,
    CAST(d.conversation_date AS DATE) AS conversation_date,
    p.participantId AS participant_id,
    p.participantName AS participant_name,
    p.purpose AS purpose,
    p.userId AS user_id,
    p.teamId AS team_id,
    p.externalContactId AS external_contact_id,
    p.externalOrganizationId AS external_organization_id,
    p.flaggedReason AS flagged_reason,
    p.screenRecording AS screen_recording,
    cardinality(p.sessions) AS session_count,
    p.attributes AS attributes
FROM conversation_details_latest AS d
CROSS JOIN UNNEST(d.participants) AS p
