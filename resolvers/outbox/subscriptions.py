"""Webhook subscriptions (``event_subscriptions.toml``): who receives which change events.

Kept under version control beside ``channels.toml`` and ``roles.toml``; validated at start-up,
and a bad file stops start-up with the file, the line, the key and the reason. Secrets are
never in the file: it names the environment variables that hold them (two during a rotation:
every delivery is then signed with both, and the receiver accepts either).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_EVENT_PATTERN = re.compile(r"^[a-z*]+\.[a-z*_-]+$")
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_S = 10.0
# Standard Webhooks asks for 24 to 64 bytes of key; fewer would be guessable.
MIN_SECRET_BYTES = 24


class SubscriptionConfigError(ConfigFileError):
    """The subscriptions file is invalid; the message names the file, line, key and reason."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://[^\s]+$")
    enabled: bool = True
    events: list[str] = Field(min_length=1)
    channels: list[str] | None = None
    secrets: list[str] = Field(min_length=1, max_length=2)
    source: str | None = None
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=50)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=60)

    @field_validator("events")
    @classmethod
    def _patterns(cls, events: list[str]) -> list[str]:
        for pattern in events:
            if not _EVENT_PATTERN.match(pattern):
                raise ValueError(
                    f"{pattern!r} is not an event type pattern like 'product.update', "
                    "'product.*' or '*.*'"
                )
        return events

    @field_validator("secrets")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _ENV.match(name):
                raise ValueError(f"{name!r} is not an environment variable name (A-Z, 0-9, _)")
        if len(set(names)) != len(names):
            raise ValueError("a secret is listed twice")
        return names


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subscriptions: dict[str, _Entry] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One receiver: where, which event types and channels, signed with which secrets."""

    name: str
    url: str
    events: tuple[str, ...]
    secrets: tuple[bytes, ...]
    channels: frozenset[str] | None = None
    source: str | None = None
    """The source system the receiver is: events its own keys caused are not sent back."""
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout_s: float = DEFAULT_TIMEOUT_S

    def wants(self, event_type: str, channels: Collection[str], actor_source: str | None) -> bool:
        """Whether an event of this type, on these channels, by this source goes here.

        An event without channels (a change to the working copy) concerns every channel."""
        if self.source is not None and actor_source == self.source:
            return False  # never echo a system's own change back to it
        if not any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.events):
            return False
        return self.channels is None or not channels or bool(self.channels & set(channels))


def secret_key(value: str) -> bytes:
    """The HMAC key of a secret: a Standard Webhooks ``whsec_<base64>`` secret is decoded,
    any other string is used as its UTF-8 bytes."""
    if value.startswith("whsec_"):
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from None
    else:
        key = value.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a secret needs {MIN_SECRET_BYTES} bytes or more, this has {len(key)}")
    return key


def load_subscriptions(
    path: Path,
    *,
    environ: Mapping[str, str],
    sources: Iterable[str] = (),
    channels: Iterable[str] = (),
) -> tuple[Subscription, ...]:
    """The enabled subscriptions of ``path``, or SubscriptionConfigError (file, line, reason).

    ``sources`` and ``channels`` are the known names (roles.toml, channels.toml); ``environ``
    holds the secrets."""
    text = read_config_text(path, "event subscriptions", SubscriptionConfigError)
    return parse_subscriptions(text, str(path), environ=environ, sources=sources, channels=channels)


def parse_subscriptions(
    text: str,
    source: str,
    *,
    environ: Mapping[str, str],
    sources: Iterable[str] = (),
    channels: Iterable[str] = (),
) -> tuple[Subscription, ...]:
    parsed = parse_config(text, source, _File, SubscriptionConfigError)
    known_sources, known_channels = set(sources), set(channels)
    result = []
    for name, entry in parsed.subscriptions.items():

        def fail(key: str, reason: str, name: str = name) -> SubscriptionConfigError:
            line = line_of(text, ["subscriptions", name, key])
            return SubscriptionConfigError(f"{source}:{line}: subscriptions.{name}.{key}: {reason}")

        if not _NAME.match(name):
            line = line_of(text, ["subscriptions", name])
            raise SubscriptionConfigError(
                f"{source}:{line}: subscriptions.{name}: subscription names must be lowercase "
                "letters, digits, - or _"
            )
        if entry.source is not None and entry.source not in known_sources:
            raise fail("source", f"unknown source system {entry.source!r} (roles.toml sources)")
        unknown = sorted(set(entry.channels or ()) - known_channels)
        if unknown:
            raise fail("channels", f"unknown channel {unknown[0]!r} (channels.toml)")
        if not entry.enabled:
            continue  # a disabled subscription needs no secrets in the environment
        keys = []
        for variable in entry.secrets:
            value = environ.get(variable)
            if not value:
                raise fail("secrets", f"the environment variable {variable} is not set")
            try:
                keys.append(secret_key(value))
            except ValueError as exc:
                raise fail("secrets", f"{variable}: {exc}") from None
        result.append(
            Subscription(
                name=name,
                url=entry.url,
                events=tuple(entry.events),
                secrets=tuple(keys),
                channels=frozenset(entry.channels) if entry.channels is not None else None,
                source=entry.source,
                max_attempts=entry.max_attempts,
                timeout_s=entry.timeout_s,
            )
        )
    return tuple(result)
