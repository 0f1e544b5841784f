"""Roles (``roles.toml``): named sets of scopes with a request budget each.

Kept under version control beside ``channels.toml``; validated at start-up, and a bad file
stops start-up with the file, the line, the key and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resolvers.access.scopes import WRITE_SCOPES, Scope
from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
# Roles the product's own behaviour names: anonymous storefront reads and the demo admin key.
REQUIRED_ROLES = ("storefront", "admin")


class RoleConfigError(ConfigFileError):
    """The roles file is invalid; the message names the file, line, key and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(_Strict):
    """A token bucket: ``burst`` requests at once, refilled at ``per_minute``."""

    burst: int = Field(ge=1, le=1_000_000)
    per_minute: int = Field(ge=1, le=60_000_000)


class RoleEntry(_Strict):
    description: str = Field(min_length=1)
    scopes: list[Scope]
    rate: RateLimit

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[Scope]) -> list[Scope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("a scope is listed twice")
        return scopes


class RolesFile(_Strict):
    roles: dict[str, RoleEntry]
    sources: list[str] = Field(
        default_factory=list,
        description="Source systems a key can belong to (pim, erp, dam, editorial, …).",
    )


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    scopes: frozenset[Scope]
    rate: RateLimit

    @property
    def can_write(self) -> bool:
        """Keys of a role that can change something must expire."""
        return bool(self.scopes & WRITE_SCOPES)


@dataclass(frozen=True, slots=True)
class Roles:
    roles: Mapping[str, Role]
    sources: tuple[str, ...]
    source: str

    def get(self, name: str) -> Role | None:
        return self.roles.get(name)

    def names(self) -> list[str]:
        return list(self.roles)


def load_roles(path: Path) -> Roles:
    """Read and validate ``path``, or raise RoleConfigError naming file, line, key and reason."""
    return parse_roles(read_config_text(path, "roles", RoleConfigError), str(path))


def parse_roles(text: str, source: str) -> Roles:
    parsed = parse_config(text, source, RolesFile, RoleConfigError)
    for name in parsed.roles:
        if not _NAME.match(name):
            raise RoleConfigError(
                f"{source}:{line_of(text, ['roles', name])}: roles.{name}: role names must be "
                "lowercase letters, digits, - or _"
            )
    for name in REQUIRED_ROLES:
        if name not in parsed.roles:
            raise RoleConfigError(f"{source}:1: roles: the {name!r} role is required")
    for index, system in enumerate(parsed.sources):
        if not _NAME.match(system):
            raise RoleConfigError(
                f"{source}:{line_of(text, ['sources'])}: sources.{index}: source system names "
                "must be lowercase letters, digits, - or _"
            )
    roles = {
        name: Role(name, entry.description, frozenset(entry.scopes), entry.rate)
        for name, entry in parsed.roles.items()
    }
    return Roles(roles, tuple(parsed.sources), source)
