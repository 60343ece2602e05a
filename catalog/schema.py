"""The landed conversation details as one nested schema, written once, and the lookups' entities beside
it; Glue and DuckDB types come from them.

Field names and types follow Genesys Cloud's analytics conversation model, as its Platform API SDK
documents it (https://github.com/MyPureCloud/platform-client-sdk-python/tree/master/docs:
AnalyticsConversationWithoutAttributes.md, AnalyticsParticipant.md, AnalyticsSession.md,
AnalyticsConversationSegment.md, AnalyticsSessionMetric.md, AnalyticsFlow.md, AnalyticsFlowOutcome.md,
AnalyticsMediaEndpointStat.md, AnalyticsProposedAgent.md, AnalyticsScoredAgent.md, AnalyticsProperty.md,
AnalyticsAgentGroup.md). Names are the JSON keys (camelCase, as the API sends them); the SDK's Python
names are their snake_case spellings.

Deliberate choices:
- Timestamps stay strings (ISO 8601, `yyyy-MM-ddTHH:mm:ss[.mmm]Z`): Athena's JSON SerDes parse only
  their own timestamp layout unless told otherwise, so the views parse them (`from_iso8601_timestamp`)
  and a malformed one reads as a string instead of failing the whole row.
- A key in a body that the schema lacks is skipped by both readers (the tables' JSON SerDe,
  stacks/catalog.py, and DuckDB's json_transform): a new Genesys field is never an error, it is just
  not a column until added here.
- Conversation-level evaluations, surveys and resolutions are not described yet (no body the bridge
  lands has carried them); adding them is adding fields below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scalar:
    hive: str
    duckdb: str


@dataclass(frozen=True)
class Array:
    item: Type


@dataclass(frozen=True)
class Map:
    key: Scalar
    value: Scalar


@dataclass(frozen=True)
class Struct:
    fields: tuple[tuple[str, Type], ...]

    def field(self, name: str) -> Type | None:
        return dict(self.fields).get(name)


Type = Scalar | Array | Map | Struct

STRING = Scalar("string", "VARCHAR")
BIGINT = Scalar("bigint", "BIGINT")  # the SDK's `int`: metric values are milliseconds, past 2^31
DOUBLE = Scalar("double", "DOUBLE")  # the SDK's `float`
BOOLEAN = Scalar("boolean", "BOOLEAN")
DATETIME = STRING  # ISO 8601 text, parsed by the views (see the module docstring)


def struct(*fields: tuple[str, Type]) -> Struct:
    names = [name for name, _ in fields]
    duplicates = {name.lower() for name in names if [n.lower() for n in names].count(name.lower()) > 1}
    if duplicates:
        # Hive matches JSON keys case-insensitively: two keys differing in case would collide.
        raise ValueError(f"fields repeat (case-insensitively): {sorted(duplicates)}")
    return Struct(tuple(fields))


def strings(*names: str) -> tuple[tuple[str, Type], ...]:
    return tuple((name, STRING) for name in names)


SESSION_METRIC = struct(("emitDate", DATETIME), ("name", STRING), ("value", BIGINT))

SEGMENT = struct(
    ("audioMuted", BOOLEAN),
    ("conference", BOOLEAN),
    *strings("destinationConversationId", "destinationSessionId", "disconnectType", "errorCode", "groupId"),
    ("q850ResponseCodes", Array(BIGINT)),
    *strings("queueId", "requestedLanguageId"),
    ("requestedRoutingSkillIds", Array(STRING)),
    ("requestedRoutingUserIds", Array(STRING)),
    ("segmentEnd", DATETIME),
    ("segmentStart", DATETIME),
    ("segmentType", STRING),
    ("sipResponseCodes", Array(BIGINT)),
    *strings("sourceConversationId", "sourceSessionId", "subject"),
    ("videoMuted", BOOLEAN),
    *strings("wrapUpCode", "wrapUpNote"),
    ("wrapUpTags", Array(STRING)),
    ("scoredAgents", Array(struct(("agentScore", BIGINT), ("scoredAgentId", STRING)))),
    ("properties", Array(struct(*strings("property", "propertyType", "value")))),
)

FLOW = struct(
    *strings("endingLanguage", "entryReason", "entryType", "exitReason", "flowId", "flowName"),
    *strings("flowType", "flowVersion"),
    ("issuedCallback", BOOLEAN),
    *strings("recognitionFailureReason", "startingLanguage", "transferTargetAddress"),
    *strings("transferTargetName", "transferType"),
    (
        "outcomes",
        Array(
            struct(
                ("flowOutcome", STRING),
                ("flowOutcomeEndTimestamp", DATETIME),
                ("flowOutcomeId", STRING),
                ("flowOutcomeStartTimestamp", DATETIME),
                ("flowOutcomeValue", STRING),
            )
        ),
    ),
)

MEDIA_ENDPOINT_STAT = struct(
    ("codecs", Array(STRING)),
    ("discardedPackets", BIGINT),
    ("duplicatePackets", BIGINT),
    ("eventTime", DATETIME),
    ("invalidPackets", BIGINT),
    ("maxLatencyMs", BIGINT),
    ("minMos", DOUBLE),
    ("minRFactor", DOUBLE),
    ("overrunPackets", BIGINT),
    ("receivedPackets", BIGINT),
    ("underrunPackets", BIGINT),
)

SESSION = struct(
    ("activeSkillIds", Array(STRING)),
    ("acwSkipped", BOOLEAN),
    *strings("addressFrom", "addressOther", "addressSelf", "addressTo", "agentAssistantId"),
    ("agentBullseyeRing", BIGINT),
    ("agentOwned", BOOLEAN),
    *strings("ani", "assignerId"),
    ("authenticated", BOOLEAN),
    ("bargedParticipantId", STRING),
    ("bcc", Array(STRING)),
    ("callbackNumbers", Array(STRING)),
    ("callbackScheduledTime", DATETIME),
    ("callbackUserName", STRING),
    ("cc", Array(STRING)),
    ("cleared", BOOLEAN),
    *strings("coachedParticipantId", "cobrowseRole", "cobrowseRoomId", "deliveryStatus"),
    ("deliveryStatusChangeDate", DATETIME),
    ("destinationAddresses", Array(STRING)),
    ("detectedSpeechEnd", DATETIME),
    ("detectedSpeechStart", DATETIME),
    *strings("direction", "dispositionAnalyzer", "dispositionName", "dnis", "edgeId"),
    ("eligibleAgentCounts", Array(BIGINT)),
    *strings("extendedDeliveryStatus", "flowInType", "flowOutType", "journeyActionId"),
    ("journeyActionMapId", STRING),
    ("journeyActionMapVersion", BIGINT),
    *strings("journeyCustomerId", "journeyCustomerIdType", "journeyCustomerSessionId"),
    *strings("journeyCustomerSessionIdType", "mediaBridgeId"),
    ("mediaCount", BIGINT),
    *strings("mediaType", "messageType", "monitoredParticipantId", "outboundCampaignId"),
    *strings("outboundContactId", "outboundContactListId", "peerId", "protocolCallId", "provider"),
    ("recording", BOOLEAN),
    *strings("remote", "remoteNameDisplayable"),
    ("removedSkillIds", Array(STRING)),
    ("requestedRoutings", Array(STRING)),
    ("roomId", STRING),
    ("routingRing", BIGINT),
    *strings("routingRule", "routingRuleType", "screenShareAddressSelf", "screenShareRoomId"),
    *strings("scriptId", "selectedAgentId"),
    ("selectedAgentRank", BIGINT),
    *strings("sessionDnis", "sessionId"),
    ("sharingScreen", BOOLEAN),
    ("skipEnabled", BOOLEAN),
    ("timeoutSeconds", BIGINT),
    *strings("usedRouting", "videoAddressSelf", "videoRoomId"),
    ("waitingInteractionCounts", Array(BIGINT)),
    ("agentGroups", Array(struct(*strings("agentGroupId", "agentGroupType")))),
    ("proposedAgents", Array(struct(("agentRank", BIGINT), ("proposedAgentId", STRING)))),
    ("mediaEndpointStats", Array(MEDIA_ENDPOINT_STAT)),
    ("flow", FLOW),
    ("metrics", Array(SESSION_METRIC)),
    ("segments", Array(SEGMENT)),
)

PARTICIPANT = struct(
    *strings("externalContactId", "externalOrganizationId", "flaggedReason", "participantId"),
    *strings("participantName", "purpose"),
    ("screenRecording", BOOLEAN),
    *strings("teamId", "userId"),
    ("sessions", Array(SESSION)),
    ("attributes", Map(STRING, STRING)),
)

CONVERSATION = struct(
    ("conferenceStart", DATETIME),
    ("conversationEnd", DATETIME),
    ("conversationId", STRING),
    ("conversationInitiator", STRING),
    ("conversationStart", DATETIME),
    ("customerParticipation", BOOLEAN),
    ("divisionIds", Array(STRING)),
    ("externalTag", STRING),
    ("inactivityTimeout", DATETIME),
    ("knowledgeBaseIds", Array(STRING)),
    ("mediaStatsMinConversationMos", DOUBLE),
    ("mediaStatsMinConversationRFactor", DOUBLE),
    ("originatingDirection", STRING),
    ("originatingSocialMediaPublic", BOOLEAN),
    ("selfServed", BOOLEAN),
    ("participants", Array(PARTICIPANT)),
)


# --- the lookups (genesys_bridge.lookups): one entity per line, as each Genesys listing returns it ------
# Fields from the SDK's models (Queue.md, QueueMediaSettings.md, MediaSettings.md, ServiceLevel.md,
# User.md, WrapupCode.md, AuthzDivision.md, RoutingSkill.md, Language.md); the rest of an entity is
# landed and skipped by both readers until a field is added here.

DIVISION_REF = struct(*strings("id", "name"))
MEDIA_SETTINGS = struct(
    ("alertingTimeoutSeconds", BIGINT),
    ("serviceLevel", struct(("percentage", DOUBLE), ("durationMs", BIGINT))),
)
# A queue's media settings name voice `call`; the analytics details name it `voice`.
QUEUE_MEDIA_TYPES = {
    "call": "voice",
    "callback": "callback",
    "chat": "chat",
    "email": "email",
    "message": "message",
}
QUEUE = struct(
    *strings("id", "name", "description"),
    ("division", DIVISION_REF),
    ("memberCount", BIGINT),
    ("mediaSettings", struct(*((media, MEDIA_SETTINGS) for media in QUEUE_MEDIA_TYPES))),
    ("dateModified", DATETIME),
)
USER = struct(
    *strings("id", "name", "email", "username", "state", "title", "department"),
    ("division", DIVISION_REF),
)
WRAPUP_CODE = struct(*strings("id", "name", "description"), ("division", DIVISION_REF))
DIVISION = struct(*strings("id", "name", "description"), ("homeDivision", BOOLEAN))
SKILL = struct(*strings("id", "name", "state"), ("dateModified", DATETIME))
LANGUAGE = struct(*strings("id", "name", "state"), ("dateModified", DATETIME))
LOOKUP_ENTITIES: dict[str, Struct] = {
    "queues": QUEUE,
    "users": USER,
    "wrapup_codes": WRAPUP_CODE,
    "divisions": DIVISION,
    "skills": SKILL,
    "languages": LANGUAGE,
}


# The compacted days' flat datasets (genesys_bridge.layout.COMPACTED_SESSION_METRICS and
# COMPACTED_SEGMENTS): one row per session metric and per segment, the columns catalog/sql/flat/*.sql
# writes, in that order, before the partition column. Timestamps are UTC `timestamp`s there (Athena's
# UNLOAD writes no `timestamp with time zone`); the views give them back with the zone.
TIMESTAMP = Scalar("timestamp", "TIMESTAMP")
SESSION_METRIC_ROW = struct(
    *strings("conversation_id", "participant_id", "purpose", "user_id", "session_id"),
    ("session_key", BIGINT),
    *strings("media_type", "metric_name"),
    ("metric_value", BIGINT),
    ("emit_date", TIMESTAMP),
    ("queue_id", STRING),
)
SEGMENT_ROW = struct(
    *strings("conversation_id", "participant_id", "purpose", "user_id", "session_id", "media_type"),
    ("segment_type", STRING),
    ("segment_start", TIMESTAMP),
    ("segment_end", TIMESTAMP),
    ("duration_ms", BIGINT),
    *strings("queue_id", "group_id", "disconnect_type", "error_code", "wrap_up_code", "wrap_up_note"),
    ("wrap_up_tags", Array(STRING)),
    ("conference", BOOLEAN),
    ("requested_routing_skill_ids", Array(STRING)),
    *strings("requested_language_id", "subject", "source_conversation_id", "destination_conversation_id"),
)


def duckdb_type(field_type: Type) -> str:
    """The DuckDB type name of a scalar or an array of scalars (the flat datasets' columns)."""
    if isinstance(field_type, Scalar):
        return field_type.duckdb
    if isinstance(field_type, Array):
        return f"{duckdb_type(field_type.item)}[]"
    raise TypeError(f"no flat DuckDB type for {field_type}")


def hive_type(field_type: Type) -> str:
    """The Hive type string Glue stores (`array<struct<name:type,...>>`), field names lower-cased as
    Athena and Hive's JSON SerDe (which matches JSON keys case-insensitively) treat them."""
    if isinstance(field_type, Scalar):
        return field_type.hive
    if isinstance(field_type, Array):
        return f"array<{hive_type(field_type.item)}>"
    if isinstance(field_type, Map):
        return f"map<{field_type.key.hive},{field_type.value.hive}>"
    return "struct<" + ",".join(f"{name.lower()}:{hive_type(t)}" for name, t in field_type.fields) + ">"


def duckdb_structure(field_type: Type) -> Any:
    """The structure DuckDB's json_transform takes: keys as the JSON spells them, DuckDB type names."""
    if isinstance(field_type, Scalar):
        return field_type.duckdb
    if isinstance(field_type, Array):
        return [duckdb_structure(field_type.item)]
    if isinstance(field_type, Map):
        return f"MAP({field_type.key.duckdb}, {field_type.value.duckdb})"
    return {name: duckdb_structure(t) for name, t in field_type.fields}


def duckdb_structure_json(entity: Struct = CONVERSATION) -> str:
    return json.dumps(duckdb_structure(entity), separators=(",", ":"))


def columns(entity: Struct = CONVERSATION) -> list[tuple[str, str]]:
    """A table's columns as (name, Hive type), in the schema's order: the details table's by default,
    a lookup's with its entity (LOOKUP_ENTITIES)."""
    return [(name.lower(), hive_type(t)) for name, t in entity.fields]


def unknown_keys(body: Any, field_type: Type = CONVERSATION, path: str = "") -> Iterator[str]:
    """Paths of keys in `body` the schema does not describe (they read as absent, never as errors)."""
    if isinstance(field_type, Array) and isinstance(body, list):
        for item in body:
            yield from unknown_keys(item, field_type.item, f"{path}[]")
    elif isinstance(field_type, Struct) and isinstance(body, dict):
        for key, value in body.items():
            child = field_type.field(key)
            if child is None:
                yield f"{path}.{key}" if path else key
            else:
                yield from unknown_keys(value, child, f"{path}.{key}" if path else key)
