"""contracts.toml: the shipped file loads; a bad one names its file, line and reason."""

from __future__ import annotations

import pytest

from gateway.contracts import load, manifest_bodies
from resolvers.contracts.config import ContractsConfigError, parse_contracts
from tests.workflow_fixtures import PROFILES


def test_the_shipped_contracts_cover_four_channels_and_every_expectation_kind() -> None:
    contracts = load(PROFILES.channels)
    assert contracts.channels() == ["web", "mobile", "email", "marketplace"]
    kinds = set()
    for operation in contracts.operations:
        c = operation.contract
        kinds |= {k for k in ("non_null", "non_empty", "no_fallback", "images") if getattr(c, k)}
        kinds |= {k for k in ("max_bytes", "max_server_ms") if getattr(c, k) is not None}
    assert kinds == {
        "non_null",
        "non_empty",
        "no_fallback",
        "images",
        "max_bytes",
        "max_server_ms",
    }
    assert [o.where for o in contracts.operations if o.contract.gate] == [
        "web/product-page",
        "email/newsletter-item",
        "marketplace/item",
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('operation = "EmailProduct"', 'operation = "EmailProdukt"'),
            r"contracts.toml:6: channels.email.operations.item.operation: no operation "
            r"'EmailProdukt' in the manifest",
        ),
        (
            ('slot = "banner"', 'slot = "hero"'),
            r"contracts.toml:12: channels.email.operations.item.images: channel email has no "
            r"slot 'hero'; slots: banner, thumbnail",
        ),
        (
            ('locales = ["fr-FR"]', 'locales = ["it-IT"]'),
            r"contracts.toml:9: channels.email.operations.item.locales: 'it-IT' is not a locale "
            r"of channel email",
        ),
        (
            ("max_bytes = 2_000", "max_bytes = -1"),
            r"contracts.toml:13: channels.email.operations.item.max_bytes: Input should be "
            r"greater than or equal to 1",
        ),
        (
            ('for_each = "sku"', 'for_each = "category"'),
            r"contracts.toml:7: channels.email.operations.item.for_each: EmailProduct declares "
            r"no \$category",
        ),
    ],
)
def test_a_bad_file_names_the_line_and_the_reason(edit: tuple[str, str], message: str) -> None:
    text = """# the email contract
[channels.email]
description = "x"

[channels.email.operations.item]
operation = "EmailProduct"
for_each = "sku"
products = "product"
locales = ["fr-FR"]
no_fallback = ["fr-FR"]
gate = true
images = [{ path = "heroImage.url", slot = "banner" }]
max_bytes = 2_000
"""
    manifest = manifest_bodies()
    parse_contracts(text, "contracts.toml", PROFILES.channels, manifest)
    with pytest.raises(ContractsConfigError, match=message):
        parse_contracts(text.replace(*edit), "contracts.toml", PROFILES.channels, manifest)
