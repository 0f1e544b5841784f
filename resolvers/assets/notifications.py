"""Cloudinary's notification bodies, checked before anything of them reaches the mirror.

Only the notification types the mirror applies have a schema; any other type is recognised by
its ``notification_type`` alone and ignored. What the schemas guarantee is what MongoDB needs:
a public id is a non-empty string (an object such as ``{"$gt": ""}`` in a filter would match
other assets), an integer fits BSON's 64 bits, a float is finite, and no string holds a lone
surrogate (UTF-8 cannot encode it). Fields the mirror does not read are let through unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

# Cloudinary deletes at most 1,000 assets per Admin API call (by prefix, tag or "all"; 100 by
# public ids), and one call sends one notification: a longer list is not Cloudinary's.
MAX_RESOURCES = 1000
MAX_INT64 = 2**63 - 1

PublicId = Annotated[str, StringConstraints(min_length=1)]
Count = Annotated[int, Field(ge=0, le=MAX_INT64)]
ResourceType = Literal["image", "video", "raw"]

CHANGE_NOTIFICATIONS = frozenset(
    {
        "resource_tags_changed",
        "resource_context_changed",
        "resource_metadata_changed",
        "resource_display_name_changed",
    }
)


class _Model(BaseModel):
    # Strict: JSON gives each field one type, and "5" where a number belongs is not Cloudinary's.
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class Metadata(_Model):
    """The structured metadata fields the mirror reads (``resolvers.assets.mirror``)."""

    usage_channels: str | list[str] | None = None
    lifecycle_stage: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None


class UploadNotification(_Model):
    notification_type: Literal["upload"]
    public_id: PublicId
    resource_type: ResourceType = "image"
    version: Count | None = None
    width: Count | None = None
    height: Count | None = None
    bytes: Count | None = None
    format: str | None = None
    tags: list[str] = []
    context: dict[str, str | dict[str, str]] | None = None
    metadata: Metadata | None = None
    phash: str | None = None
    duration: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None

    def resource(self) -> dict[str, Any]:
        """The body as an Upload API resource, for ``asset_from_resource``."""
        return self.model_dump(exclude_none=True)


class Resource(_Model):
    public_id: PublicId
    resource_type: ResourceType = "image"
    version: Count | None = None


def _keyed_to_list(value: Any) -> Any:
    """Context and metadata notifications key ``resources`` by public id: one list for all."""
    if not isinstance(value, dict):
        return value
    entries = []
    for key, entry in value.items():
        if not isinstance(entry, dict):
            raise ValueError(f"the entry for {_printable(key)} is not an object")
        entries.append({"public_id": key, **entry})
    return entries


Resources = Annotated[list[Resource], BeforeValidator(_keyed_to_list)]


class DeleteNotification(_Model):
    notification_type: Literal["delete"]
    resources: Resources


class RenameNotification(_Model):
    notification_type: Literal["rename"]
    from_public_id: PublicId
    to_public_id: PublicId
    resource_type: ResourceType = "image"


class ChangeNotification(_Model):
    notification_type: str
    resources: Resources


Notification = UploadNotification | DeleteNotification | RenameNotification | ChangeNotification

_SCHEMAS: dict[str, type[Notification]] = {
    "upload": UploadNotification,
    "delete": DeleteNotification,
    "rename": RenameNotification,
    **dict.fromkeys(CHANGE_NOTIFICATIONS, ChangeNotification),
}


@dataclass(frozen=True, slots=True)
class InvalidNotificationError(Exception):
    """A body the mirror must not apply; ``field`` is its JSON path (``resources.3.public_id``)."""

    field: str
    reason: str
    too_many: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


def parse_notification(text: str) -> Notification | None:
    """The notification in a (signed) body; None for a type the mirror does not apply.

    Raises InvalidNotificationError naming the first offending field.
    """
    try:
        payload = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        # ValueError covers malformed JSON and integers past Python's digit limit.
        raise InvalidNotificationError("", f"the notification body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidNotificationError("", "the notification body is not a JSON object")
    kind = payload.get("notification_type")
    if not isinstance(kind, str):
        raise InvalidNotificationError("notification_type", "must be a string")
    schema = _SCHEMAS.get(kind)
    if schema is None:
        return None
    for path, text_value in _strings(payload):
        if not _encodable(text_value):
            raise InvalidNotificationError(
                _printable(path), "is not valid Unicode (a lone surrogate)"
            )
    listed = payload.get("resources")
    if isinstance(listed, list | dict) and len(listed) > MAX_RESOURCES:
        raise InvalidNotificationError(
            "resources", f"at most {MAX_RESOURCES} per notification, not {len(listed)}", True
        )
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        field = _printable(".".join(str(part) for part in error["loc"]))
        raise InvalidNotificationError(field, error["msg"]) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _strings(payload: Any) -> Iterator[tuple[str, str]]:
    """Every string in the document, keys included, with its path; iterative, because a deep
    document that ``json.loads`` accepted would exhaust the stack of a recursive walk."""
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{path}.{key}" if path else key
                yield inner, key
                stack.append((inner, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}", item) for index, item in enumerate(value))


def _printable(text: str, limit: int = 200) -> str:
    """Text for an error message: escaped where UTF-8 cannot carry it, and short."""
    escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
