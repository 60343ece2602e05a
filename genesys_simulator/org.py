"""The simulated contact centre: divisions, queues with media types and service levels, agents (users),
wrap-up codes, skills, languages, inbound call flows, arrivals by hour and the mix of conversation shapes.

Built reproducibly from a seed and a TOML file of defaults (org.toml: every figure an assumption, not
a Genesys one). Every conversation routes through it, so queues, agents and codes recur across
conversations; the directory listings (genesys_simulator.listings) serve it.
"""

from __future__ import annotations

import functools
import itertools
import random
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_ORG_FILE = Path(__file__).with_name("org.toml")
# The home division's id unless SimulatorConfig.division_id says otherwise.
HOME_DIVISION_ID = "3f9b1c77-6e24-4a08-b5d3-9c0e8a1f7b42"
MEDIA_TYPES = ("voice", "callback", "chat", "message", "email")
# The media types each shape is built for (genesys_simulator.shapes).
SHAPE_MEDIA: dict[str, frozenset[str]] = {
    "answered": frozenset(MEDIA_TYPES),
    "held": frozenset({"voice", "callback"}),
    "blind_transfer": frozenset(MEDIA_TYPES),
    "consult_transfer": frozenset({"voice"}),
    "abandon": frozenset({"voice", "chat", "message"}),
    "short_abandon": frozenset({"voice", "chat", "message"}),
    "voicemail": frozenset({"voice"}),
    "outbound": frozenset({"voice"}),
}
# Shapes no agent answers: no agent session, so no wrap-up and no acw event.
AGENTLESS_SHAPES = frozenset({"abandon", "short_abandon", "voicemail"})
TRANSFER_SHAPES = frozenset({"blind_transfer", "consult_transfer"})


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entry of the directory: a division, skill, language, wrap-up code or flow."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    name: str
    division: Entity
    media: tuple[str, ...]
    service_levels: Mapping[str, tuple[float, int]]  # media type -> (share answered 0..1, within ms)


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    email: str
    division: Entity
    state: str  # active, inactive or deleted: the directory today (past conversations keep the agent)
    queue_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgSpec:
    """Which org to build: a seed, the TOML file of defaults, and overrides of its counts and of the
    shapes' shares (e.g. ``shares={"abandon": 1.0}``: every conversation abandons)."""

    seed: int = 0
    path: Path = DEFAULT_ORG_FILE
    queues: int | None = None
    agents: int | None = None
    shares: Mapping[str, float] | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class Org:
    home: Entity
    divisions: tuple[Entity, ...]
    queues: tuple[Queue, ...]
    agents: tuple[Agent, ...]
    wrapup_codes: tuple[Entity, ...]
    skills: tuple[Entity, ...]
    languages: tuple[Entity, ...]
    flows: tuple[Entity, ...]
    arrivals_by_hour: tuple[float, ...]
    shapes: tuple[tuple[str, float, Mapping[str, float]], ...]  # (shape, share, media -> weight)
    timing: Mapping[str, Mapping[str, list[float]]]  # media -> part -> [low s, high s]
    short_abandon_ms: int
    midnight_share: float
    members: Mapping[str, tuple[Agent, ...]]  # queue id -> its agents

    def queues_for(self, media: str) -> tuple[Queue, ...]:
        return tuple(queue for queue in self.queues if media in queue.media)

    def draw_shape(self, conversation_id: str, shape: str | None = None) -> tuple[str, str]:
        """The (shape, media type) of a conversation, drawn from its id and the shares; a given shape
        keeps it and draws its media type only."""
        rng = random.Random(f"shape:{conversation_id}")
        names = [name for name, _, _ in self.shapes]
        if shape is None:
            shape = rng.choices(names, weights=[share for _, share, _ in self.shapes])[0]
        weights = self.shapes[names.index(shape)][2]
        return shape, rng.choices(list(weights), weights=list(weights.values()))[0]

    def arrival(self, rng: random.Random, day: datetime) -> datetime:
        """A start on ``day`` (midnight UTC) drawn from the arrivals by hour."""
        hour = rng.choices(range(24), weights=self.arrivals_by_hour)[0]
        return day + timedelta(hours=hour, seconds=round(rng.uniform(0, 3600), 3))


def build_org(spec: OrgSpec | None = None, home_division_id: str = HOME_DIVISION_ID) -> Org:
    """The org of ``spec`` (the defaults when None), its home division with the given id; built once
    per spec. A spec the shapes cannot be served from (a media type no queue takes) is a ValueError."""
    return _build(spec or OrgSpec(), home_division_id)


@functools.lru_cache(maxsize=16)
def _build(spec: OrgSpec, home_id: str) -> Org:
    data: dict[str, Any] = tomllib.loads(spec.path.read_text(encoding="utf-8"))
    rng = random.Random(f"org:{spec.seed}")
    for key in ("queues", "agents"):  # the spec's counts override the file's
        data[key] = data[key] if getattr(spec, key) is None else getattr(spec, key)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def entities(names: list[str]) -> tuple[Entity, ...]:
        return tuple(Entity(new_id(), name) for name in names)

    home = Entity(home_id, data["divisions"][0])
    divisions = (home, *entities(data["divisions"][1:]))
    division = {d.name: d for d in divisions}
    count = data["queues"]
    if not 1 <= count <= len(data["queue"]):
        raise ValueError(
            f"queues must be between 1 and {len(data['queue'])} (the queues {spec.path.name} names)"
        )
    default_level = data["default_service_level"]
    queues = tuple(
        Queue(
            new_id(),
            q["name"],
            division[q["division"]],
            tuple(q["media"]),
            {m: _level(q.get("service_level", {}).get(m, default_level)) for m in q["media"]},
        )
        for q in data["queue"][:count]
    )
    skills, languages = entities(data["skills"]), entities(data["languages"])
    agents = _agents(data, queues, rng, new_id)
    members = {q.id: tuple(a for a in agents if q.id in a.queue_ids) for q in queues}
    org = Org(
        home=home,
        divisions=divisions,
        queues=queues,
        agents=agents,
        wrapup_codes=entities(data["wrapup_codes"]),
        skills=skills,
        languages=languages,
        flows=entities(data["flows"]),
        arrivals_by_hour=tuple(float(w) for w in data["arrivals_by_hour"]),
        shapes=_shapes(data["shapes"], spec.shares),
        timing=data["timing"],
        short_abandon_ms=round(data["short_abandon_s"] * 1000),
        midnight_share=float(data["midnight_share"]),
        members=members,
    )
    _check(org)
    return org


def _level(pair: list[float]) -> tuple[float, int]:
    percentage, seconds = pair
    return float(percentage), round(seconds * 1000)


def _agents(
    data: dict[str, Any],
    queues: tuple[Queue, ...],
    rng: random.Random,
    new_id: Any,
) -> tuple[Agent, ...]:
    """Agents with distinct e-mail addresses, each in 1-3 queues (round-robin first, so every queue has
    members), in the division of the first; a few inactive or deleted."""
    names = list(itertools.product(data["first_names"], data["last_names"]))
    count = data["agents"]
    rng.shuffle(names)
    inactive, deleted = data["inactive_agents"], data["deleted_agents"]
    if count < 1 or inactive + deleted >= count:
        raise ValueError("agents must be at least 1 and above inactive_agents + deleted_agents")
    states = ["inactive"] * inactive + ["deleted"] * deleted + ["active"] * (count - inactive - deleted)
    rng.shuffle(states)
    agents = []
    for index in range(count):
        first, last = names[index % len(names)]
        suffix = str(index // len(names) or "")
        primary = queues[index % len(queues)]
        others = [q.id for q in queues if q is not primary]
        extra = rng.sample(others, min(len(others), rng.randint(0, 2)))
        local = f"{first}.{last}{suffix}".lower().replace("'", "")
        agents.append(
            Agent(
                id=new_id(),
                name=f"{first} {last}{suffix and ' ' + suffix}",
                email=f"{local}@{data['email_domain']}",
                division=primary.division,
                state=states[index],
                queue_ids=(primary.id, *extra),
            )
        )
    return tuple(agents)


def _shapes(
    table: dict[str, Any], override: Mapping[str, float] | None
) -> tuple[tuple[str, float, Mapping[str, float]], ...]:
    shares = {name: float(entry["share"]) for name, entry in table.items()}
    if override is not None:
        shares = {name: float(override.get(name, 0.0)) for name in SHAPE_MEDIA}
    unknown = sorted(set(shares) - set(SHAPE_MEDIA))
    if unknown or any(share < 0 for share in shares.values()) or not sum(shares.values()) > 0:
        raise ValueError(f"shape shares must be non-negative, not all 0, of the shapes {sorted(SHAPE_MEDIA)}")
    total = sum(shares.values())
    return tuple(
        (name, share / total, {m: float(w) for m, w in table.get(name, {}).get("media", {}).items()})
        for name, share in shares.items()
    )


def _check(org: Org) -> None:
    """Every media type a shape may take has a queue for it (two for a transfer, which leaves one)."""
    for name, share, media in org.shapes:
        if share == 0:
            continue
        if set(media) - SHAPE_MEDIA[name]:
            raise ValueError(f"shape {name} takes only {sorted(SHAPE_MEDIA[name])}, not {sorted(set(media))}")
        needed = 2 if name in TRANSFER_SHAPES else 1
        if not any(media.values()):
            raise ValueError(f"shape {name} needs a media table with a weight above 0")
        for medium, weight in media.items():
            if weight > 0 and len(org.queues_for(medium)) < needed:
                raise ValueError(f"shape {name} needs {needed} queue(s) taking {medium}: raise queues")
