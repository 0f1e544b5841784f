"""Sealed session cookies and CSRF tokens (gateway.console.session)."""

from __future__ import annotations

from gateway.console.session import LIFETIME_S, Sealer

SECRET = b"p" * 40


def test_a_sealed_session_opens_on_any_replica_and_hides_the_key() -> None:
    session = Sealer(SECRET).new_session("cgw_test_secret", now=1000)
    value = Sealer(SECRET).seal(session)
    assert "cgw_test_secret" not in value
    assert Sealer(SECRET).open(value, now=1001) == session
    assert session.expires == 1000 + LIFETIME_S


def test_tampered_foreign_or_expired_cookies_open_to_nothing() -> None:
    sealer = Sealer(SECRET)
    session = sealer.new_session("k", now=1000)
    value = sealer.seal(session)
    flipped = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert sealer.open(flipped, now=1001) is None
    assert Sealer(b"q" * 40).open(value, now=1001) is None
    assert sealer.open(value, now=session.expires) is None
    assert sealer.open("not base64 at all!", now=1001) is None
    assert sealer.open(None) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    sealer = Sealer(SECRET)
    one, other = sealer.new_session("k"), sealer.new_session("k")
    assert sealer.csrf_ok(one.sid, sealer.csrf(one.sid))
    assert not sealer.csrf_ok(one.sid, sealer.csrf(other.sid))
    assert not sealer.csrf_ok(one.sid, None)
    assert not sealer.csrf_ok(None, sealer.csrf(one.sid))


def test_the_keys_channels_travel_in_the_session() -> None:
    sealer = Sealer(SECRET)
    session = sealer.new_session("k", now=1000, channels=("mobile",))
    assert sealer.open(sealer.seal(session), now=1001) == session
