"""Scopes: the permissions a key's role grants, named ``area:action``."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    """Published products, their media and readiness scores (not the checks behind a score)."""
    CATALOG_READ_DRAFTS = "catalog:read-drafts"
    """Draft and archived products too, wherever products are reachable."""
    CATALOG_WRITE = "catalog:write"
    CATALOG_PUBLISH = "catalog:publish"
    AUDIT_READ = "audit:read"
    """``catalogAudit``, ``catalogReadiness`` and the checks behind a readiness score."""
    KEYS_MANAGE = "keys:manage"
    EVENTS_MANAGE = "events:manage"
    """Outbound event deliveries: ``eventDeliveries`` and ``eventRedeliver``."""


WRITE_SCOPES = frozenset(
    {Scope.CATALOG_WRITE, Scope.CATALOG_PUBLISH, Scope.KEYS_MANAGE, Scope.EVENTS_MANAGE}
)
