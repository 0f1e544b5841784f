"""Access control in the domain: scopes, roles and the principal a request runs as.

Authentication (API keys, JWTs) is the edge's job (``gateway/auth``); what a principal may see
and do is decided here so that resolvers, loaders and the CLI share one answer.
"""

from resolvers.access.principal import Principal, PrincipalKind
from resolvers.access.roles import (
    RateLimit,
    Role,
    RoleConfigError,
    Roles,
    load_roles,
    parse_roles,
)
from resolvers.access.scopes import WRITE_SCOPES, Scope

__all__ = [
    "WRITE_SCOPES",
    "Principal",
    "PrincipalKind",
    "RateLimit",
    "Role",
    "RoleConfigError",
    "Roles",
    "Scope",
    "load_roles",
    "parse_roles",
]
