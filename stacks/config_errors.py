"""A config validation error in words: the key, the message, and for numbers the allowed range read
from the model's own field bounds (so the range in the message is the one the model checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def _constraints(annotation: Any) -> list[Any]:
    """Metadata of an Annotated type, also inside `Annotated[...] | None`."""
    if get_origin(annotation) is Annotated:
        found: list[Any] = []
        for item in get_args(annotation)[1:]:
            # Field(ge=..., le=...) inside Annotated keeps its bounds as annotated_types metadata.
            found.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        return found
    return [item for arg in get_args(annotation) for item in _constraints(arg)]


def allowed_range(model: type[BaseModel], field_name: str) -> str | None:
    """`lo..hi` from a field's own bounds (either side may be open), or None when it has none."""
    field = model.model_fields.get(field_name)
    if field is None:
        return None
    lower = upper = None
    for constraint in [*field.metadata, *_constraints(field.annotation)]:
        lower = getattr(constraint, "ge", lower)
        upper = getattr(constraint, "le", upper)
    if lower is None and upper is None:
        return None
    return f"{'' if lower is None else lower}..{'' if upper is None else upper}"


def describe_error(
    error: Any,
    root: type[BaseModel],
    nested: Mapping[str, type[BaseModel]],
    removed: Mapping[str, str] | None = None,
) -> str:
    """One pydantic error as `key: message (allowed range lo..hi)`; `nested` maps a key of `root` that
    holds a model (such as results_lifecycle) to that model, whose fields' ranges then apply; `removed`
    maps a key that is no longer a setting to the constant it became."""
    location = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not location:
        return message
    if error["type"] == "extra_forbidden":
        key = ".".join(location)
        became = (removed or {}).get(key)
        if became is not None:
            return f"{key}: no longer a setting (now the same in every environment: {became}); remove it"
        return f"{key}: not a setting (docs/configuration.md lists them); check its spelling"
    model = nested.get(location[0], root)
    allowed = allowed_range(model, location[-1])
    suffix = f" (allowed range {allowed})" if allowed and "range" not in message else ""
    return f"{'.'.join(location)}: {message}{suffix}"
