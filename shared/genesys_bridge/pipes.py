"""EventBridge Pipes' filter and input transformation, for the subset of their syntax the project uses.

The stack hands ``contracts.PIPE_FILTER_PATTERN`` and ``contracts.PIPE_INPUT_TEMPLATE`` to EventBridge
Pipes. Two other places must do exactly what the pipe does with them: the pipe DLQ resolver (which
turns the stream records of a failed batch into the work-queue bodies the pipe would have sent) and
the local runner's stand-in for the pipe. Both apply the very same objects through this module, so a
change to either is exercised locally and in the resolver. Only the pattern and template forms the
project uses are implemented; anything else raises ``UnsupportedPipeSyntax`` so a richer pattern fails
loudly instead of being half-applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genesys_bridge import contracts


class UnsupportedPipeSyntax(ValueError):
    """The filter pattern or input template uses a form this evaluator does not implement."""


_SCALARS = (str, int, float, bool, type(None))


def matches_filter(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge event-pattern matching for nested objects and lists of exact values.

    A key maps either to an object (match recursively against the event's object at that key) or to
    a list of allowed scalar values (the event's value must equal one of them; an event list matches
    when any of its elements does). A key absent from the event does not match.
    """
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not matches_filter(expected, actual):
                return False
        elif isinstance(expected, list):
            if not all(isinstance(value, _SCALARS) for value in expected):
                # {"prefix": ...}, {"exists": ...}, numeric ranges and the like
                raise UnsupportedPipeSyntax(f"content filter in pattern at {key!r}: {expected!r}")
            candidates = actual if isinstance(actual, list) else [actual]
            if not any(_same_value(candidate, value) for candidate in candidates for value in expected):
                return False
        else:
            raise UnsupportedPipeSyntax(f"pattern value at {key!r} must be an object or a list")
    return True


def _same_value(actual: Any, expected: Any) -> bool:
    # EventBridge compares exact JSON values: True is not 1, "1" is not 1.
    return type(actual) is type(expected) and actual == expected


# <$.a.b.c> with dot-separated plain keys: the only path form the project's template uses.
_PLACEHOLDER = re.compile(r"<\$((?:\.[A-Za-z0-9_-]+)+)>")
_ANY_PLACEHOLDER = re.compile(r"<\$[^>]*>")


def _resolve(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.strip(".").split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"$.{path.strip('.')} is not in the event")
        value = value[key]
    return value


def render_input_template(template: str, event: Mapping[str, Any]) -> str:
    """EventBridge Pipes input transformation: replace each ``<$.path>`` with the event's value.

    Inside a JSON string (between quotes) the value is inserted as string content, JSON-escaped;
    outside quotes it is inserted as JSON. A path absent from the event raises KeyError (Pipes would
    send the record to the pipe's DLQ; callers treat it as a record the pipe cannot deliver).
    """
    for found in _ANY_PLACEHOLDER.finditer(template):
        if not _PLACEHOLDER.fullmatch(found.group(0)):
            raise UnsupportedPipeSyntax(f"template path {found.group(0)!r}")
    out: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        prefix = template[position : found.start()]
        out.append(prefix)
        value = _resolve(event, found.group(1))
        if _inside_string("".join(out)):
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1])
        else:
            out.append(json.dumps(value))
        position = found.end()
    out.append(template[position:])
    rendered = "".join(out)
    json.loads(rendered)  # Pipes refuses a template whose output is not valid JSON; so does this
    return rendered


def _inside_string(text: str) -> bool:
    inside = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


@dataclass(frozen=True)
class PipeDefinition:
    """The filter and template of one pipe (BUFFER_PIPE is the stack's)."""

    filter_pattern: Mapping[str, Any]
    input_template: str

    def transform(self, record: Mapping[str, Any]) -> str | None:
        """The target message body for a stream record, or None when the filter drops it."""
        if not matches_filter(self.filter_pattern, record):
            return None
        return render_input_template(self.input_template, record)


# The one pipe of the stack: new buffer items (INSERT) to {"conversationId": ...} work-queue bodies.
BUFFER_PIPE = PipeDefinition(
    filter_pattern=contracts.PIPE_FILTER_PATTERN, input_template=contracts.PIPE_INPUT_TEMPLATE
)
