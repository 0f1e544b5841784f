from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth import JwtConfigError, JwtSettings, JwtVerifier
from resolvers.access import Scope, load_roles

ROLES = load_roles(Path(__file__).parents[3] / "gateway" / "roles.toml")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> JwtVerifier:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
    jwks = tmp_path_factory.mktemp("jwks") / "jwks.json"
    jwks.write_text(
        json.dumps({"keys": [{**rsa_jwk, "kid": "rsa-1", "use": "sig"}, {**ec_jwk, "kid": "ec-1"}]})
    )
    return JwtVerifier(JwtSettings(str(jwks), issuer="https://idp.test", audience="catalog"), ROLES)


def token(
    claims: dict[str, Any], *, key: Any = RSA_KEY, alg: str = "RS256", kid: str = "rsa-1"
) -> str:
    now = int(time.time())
    payload = {"sub": "router", "iss": "https://idp.test", "aud": "catalog", "exp": now + 300}
    return jwt.encode({**payload, **claims}, key, algorithm=alg, headers={"kid": kid})


def test_a_signed_token_maps_its_claim_to_a_role(verifier: JwtVerifier) -> None:
    principal = verifier.verify(token({"role": "viewer"}))
    assert principal is not None
    assert (principal.kind, principal.name, principal.role.name) == ("jwt", "router", "viewer")
    assert principal.sees_drafts
    es256 = verifier.verify(token({"role": "storefront"}, key=EC_KEY, alg="ES256", kid="ec-1"))
    assert es256 is not None
    assert not es256.sees_drafts


def test_a_scope_claim_narrows_the_role(verifier: JwtVerifier) -> None:
    principal = verifier.verify(token({"role": "viewer", "scope": "catalog:read keys:manage"}))
    assert principal is not None
    assert principal.granted == {Scope.CATALOG_READ}


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "viewer", "exp": int(time.time()) - 10},
        {"role": "viewer", "iss": "https://evil.test"},
        {"role": "viewer", "aud": "other"},
        {"role": "owner"},
        {},
    ],
)
def test_invalid_claims_are_refused(verifier: JwtVerifier, bad: dict[str, Any]) -> None:
    assert verifier.verify(token(bad)) is None


def _handmade(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = base64.urlsafe_b64encode(sign(signing_input.encode())).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


def test_forgeries_are_refused(verifier: JwtVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verifier.verify(token({"role": "admin"}, key=other)) is None
    claims: dict[str, Any] = {"sub": "x", "role": "admin", "iss": "https://idp.test"}
    claims["aud"] = "catalog"
    claims["exp"] = int(time.time()) + 300
    # The classic confusion: the public key used as an HMAC secret.
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs256 = _handmade(
        {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"},
        claims,
        lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )
    assert verifier.verify(hs256) is None
    unsigned = _handmade({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, claims, lambda _: b"")
    assert verifier.verify(unsigned) is None


def test_an_unreadable_jwks_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text("not json")
    with pytest.raises(JwtConfigError, match="not a readable JWKS"):
        JwtVerifier(JwtSettings(str(tmp_path / "jwks.json")), ROLES)
