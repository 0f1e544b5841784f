from pathlib import Path

import pytest

from resolvers.outbox.subscriptions import (
    Subscription,
    SubscriptionConfigError,
    load_subscriptions,
    parse_subscriptions,
)

SHIPPED = Path(__file__).parents[3] / "gateway" / "event_subscriptions.toml"
SECRET = "a secret of twenty-four bytes or more"
ENV = {"SHOP_SECRET": SECRET, "SHOP_SECRET_OLD": "whsec_" + "b2xk" * 8}
GOOD = """
[subscriptions.shop]
url = "https://shop.example.com/hook"
events = ["product.*"]
channels = ["web"]
secrets = ["SHOP_SECRET", "SHOP_SECRET_OLD"]
source = "pim"
max_attempts = 3
"""


def parse(text: str, environ: dict[str, str] = ENV) -> tuple[Subscription, ...]:
    return parse_subscriptions(
        text, "subs.toml", environ=environ, sources=["pim", "erp"], channels=["web", "print"]
    )


def test_the_shipped_file_enables_nothing() -> None:
    # The demo must not try to deliver to the example's made-up URL.
    assert load_subscriptions(SHIPPED, environ={}, sources=["erp"]) == ()


def test_a_subscription_with_two_secrets() -> None:
    [shop] = parse(GOOD)
    assert (shop.name, shop.url, shop.events, shop.source) == (
        "shop",
        "https://shop.example.com/hook",
        ("product.*",),
        "pim",
    )
    assert shop.secrets == (SECRET.encode(), b"old" * 8)
    assert shop.channels == frozenset({"web"})
    assert shop.max_attempts == 3
    assert shop.wants("product.update", [], None)
    assert shop.wants("product.publish", ["web", "print"], "erp")
    assert not shop.wants("product.publish", ["print"], None)
    assert not shop.wants("category.update", [], None)
    assert not shop.wants("product.update", [], "pim")  # its own change: no echo


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('url = "https://shop.example.com/hook"', 'url = "ftp://x"'),
            "subs.toml:3: subscriptions.shop.url: String should match pattern",
        ),
        (
            ('source = "pim"', 'source = "crm"'),
            "subs.toml:7: subscriptions.shop.source: unknown source system 'crm'",
        ),
        (
            ('channels = ["web"]', 'channels = ["tv"]'),
            "subs.toml:5: subscriptions.shop.channels: unknown channel 'tv'",
        ),
        (
            ('events = ["product.*"]', 'events = ["everything"]'),
            "subs.toml:4: subscriptions.shop.events: 'everything' is not an event type pattern",
        ),
        (
            ('"SHOP_SECRET_OLD"', '"SHOP_SECRET_NEW"'),
            "subs.toml:6: subscriptions.shop.secrets: the environment variable SHOP_SECRET_NEW "
            "is not set",
        ),
        (
            ("max_attempts = 3", "max_attempts = 0"),
            "subs.toml:8: subscriptions.shop.max_attempts: Input should be greater than",
        ),
        (
            ("[subscriptions.shop]", "[subscriptions.Shop]"),
            "subs.toml:2: subscriptions.Shop: subscription names must be lowercase",
        ),
    ],
)
def test_errors_name_the_file_line_and_key(change: tuple[str, str], message: str) -> None:
    with pytest.raises(SubscriptionConfigError) as raised:
        parse(GOOD.replace(*change))
    assert str(raised.value).startswith(message)


def test_secrets_too_short_or_not_base64() -> None:
    with pytest.raises(SubscriptionConfigError, match="SHOP_SECRET: a secret needs 24 bytes"):
        parse(GOOD, {**ENV, "SHOP_SECRET": "short"})
    with pytest.raises(SubscriptionConfigError, match="must be base64 after the prefix"):
        parse(GOOD, {**ENV, "SHOP_SECRET_OLD": "whsec_!!"})


def test_a_disabled_subscription_needs_no_secret() -> None:
    assert parse(GOOD.replace("max_attempts = 3", "enabled = false"), environ={}) == ()
