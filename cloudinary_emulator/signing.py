"""Cloudinary's signatures, computed the way the official SDKs compute them.

Upload API requests: hex SHA-1 (or SHA-256) of the sorted ``key=value`` pairs joined with
``&`` followed by the API secret; signature version 2 percent-encodes ``&`` inside pairs.
Delivery URLs: the first 8 (32 for long SHA-256 signatures) characters of the URL-safe base64
digest of ``<transformation>/<public_id>.<ext>`` plus the secret, wrapped as ``s--…--``.
Notifications: hex digest of ``body + timestamp + secret``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from cloudinary_emulator.config import SignatureAlgorithm

ParamValue = str | list[str]

SHORT_URL_SIGNATURE_LENGTH = 8
LONG_URL_SIGNATURE_LENGTH = 32

_HEX_LENGTHS: dict[int, SignatureAlgorithm] = {40: "sha1", 64: "sha256"}
_URL_UNSAFE = re.compile(r"[^a-zA-Z0-9_.\-/:]+")


def smart_escape(text: str) -> str:
    """Percent-encode a public ID the way the SDKs do before putting it in a URL."""
    return _URL_UNSAFE.sub(
        lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8")), text
    )


def _digest(algorithm: SignatureAlgorithm, data: str) -> bytes:
    return hashlib.new(algorithm, data.encode("utf-8")).digest()


def string_to_sign(params: Mapping[str, ParamValue], signature_version: int = 2) -> str:
    pairs = []
    for key, value in params.items():
        text = ",".join(value) if isinstance(value, list) else value
        if not text:
            # The SDKs drop empty values before signing, so they must not count here either.
            continue
        pair = f"{key}={text}"
        if signature_version >= 2:
            pair = pair.replace("&", "%26")
        pairs.append(pair)
    return "&".join(sorted(pairs))


def sign_params(
    params: Mapping[str, ParamValue],
    api_secret: str,
    algorithm: SignatureAlgorithm = "sha1",
    signature_version: int = 2,
) -> str:
    return _digest(algorithm, string_to_sign(params, signature_version) + api_secret).hex()


def verify_params_signature(
    candidates: Iterable[Mapping[str, ParamValue]], signature: str, api_secret: str
) -> bool:
    """Whether ``signature`` signs one of the candidate parameter sets.

    The algorithm follows from the digest length; both signature versions are accepted
    because they differ only for values containing ``&``, where older SDKs still use v1.
    """
    algorithm = _HEX_LENGTHS.get(len(signature))
    if algorithm is None:
        return False
    for params in candidates:
        for version in (2, 1):
            expected = sign_params(params, api_secret, algorithm, version)
            if hmac.compare_digest(expected, signature.lower()):
                return True
    return False


def response_signature(
    public_id: str, version: int, api_secret: str, algorithm: SignatureAlgorithm = "sha1"
) -> str:
    """The ``signature`` field of upload responses (``verify_api_response_signature``)."""
    return sign_params({"public_id": public_id, "version": str(version)}, api_secret, algorithm, 1)


def url_signature(
    to_sign: str,
    api_secret: str,
    algorithm: SignatureAlgorithm = "sha1",
    length: int = SHORT_URL_SIGNATURE_LENGTH,
) -> str:
    """The text between ``s--`` and ``--`` for a delivery URL component."""
    digest = _digest(algorithm, to_sign + api_secret)
    return base64.urlsafe_b64encode(digest).decode("ascii")[:length]


def verify_url_signature(
    to_sign: str, signature: str, api_secret: str, algorithm: SignatureAlgorithm = "sha1"
) -> bool:
    if len(signature) == LONG_URL_SIGNATURE_LENGTH:
        # The SDKs force SHA-256 for long signatures whatever the configured algorithm.
        expected = url_signature(to_sign, api_secret, "sha256", LONG_URL_SIGNATURE_LENGTH)
    elif len(signature) == SHORT_URL_SIGNATURE_LENGTH:
        expected = url_signature(to_sign, api_secret, algorithm)
    else:
        return False
    return hmac.compare_digest(expected, signature)


def notification_signature(
    body: str, timestamp: int, api_secret: str, algorithm: SignatureAlgorithm = "sha1"
) -> str:
    return _digest(algorithm, f"{body}{timestamp}{api_secret}").hex()
