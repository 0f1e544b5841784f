import base64

from resolvers.outbox.signing import signature, signed_headers, verify
from resolvers.outbox.subscriptions import secret_key

# The example of the Standard Webhooks specification (standard-webhooks/standard-webhooks).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specification_example() -> None:
    key = secret_key(SPEC_SECRET)
    assert key == base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    assert signature(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_two_secrets_two_signatures_either_verifies() -> None:
    new, old = b"n" * 32, b"o" * 32
    headers = signed_headers([new, old], "evt-1", 1700000000, b"{}")
    assert headers["webhook-id"] == "evt-1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(new, headers, b"{}")
    assert verify(old, headers, b"{}")
    assert not verify(b"x" * 32, headers, b"{}")
    # The id and timestamp are signed too: changing either breaks the signature.
    assert not verify(new, {**headers, "webhook-id": "evt-2"}, b"{}")
    assert not verify(new, {**headers, "webhook-timestamp": "1700000001"}, b"{}")
    assert not verify(new, {"webhook-id": "evt-1"}, b"{}")
