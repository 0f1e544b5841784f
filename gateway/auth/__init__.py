"""Authentication at the edge: API keys and JWTs to a Principal, and request budgets."""

from gateway.auth.authenticator import AuthenticationError, Authenticator, TooManyFailuresError
from gateway.auth.buckets import TokenBuckets, retry_after_header
from gateway.auth.jwt_tokens import JwtConfigError, JwtSettings, JwtVerifier

__all__ = [
    "AuthenticationError",
    "Authenticator",
    "JwtConfigError",
    "JwtSettings",
    "JwtVerifier",
    "TokenBuckets",
    "TooManyFailuresError",
    "retry_after_header",
]
