"""The contract gate as the gateway wires it: productApprove over HTTP runs the channel's gated
contract operations (gateway/contracts.toml) and answers a PublishGateError listing them."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.http_helpers import api_key, serve
from tests.workflow_fixtures import PROFILES, load, product

pytestmark = pytest.mark.indexed

RESULT = """{ results { sku errors { __typename code
  ... on PublishGateError { channel checks { check message } } } } }"""
SUBMIT = f"""mutation($skus: [ID!]!) {{
  productSubmitForReview(input: {{skus: $skus, channels: ["email"]}}) {RESULT} }}"""
APPROVE = f"""mutation($skus: [ID!]!) {{
  productApprove(input: {{skus: $skus, channels: ["email"]}}) {RESULT} }}"""


async def test_approving_on_email_a_product_without_french_fails_the_newsletter_contract(
    db: AsyncDatabase[dict[str, Any]], settings: Settings
) -> None:
    names = {tag: f"Gadget {tag}" for tag in PROFILES.locales.locales if tag != "fr-FR"}
    await load(Catalog(db), [product("WF-NOFR", 1, name=names)])
    editor, lead = await api_key(db, "editor", settings), await api_key(db, "lead", settings)
    async with serve(create_app(settings)) as client:
        variables = {"skus": ["WF-NOFR"]}
        submitted = await client.post(
            "/graphql", json={"query": SUBMIT, "variables": variables}, headers=editor
        )
        assert submitted.json()["data"]["productSubmitForReview"]["results"][0]["errors"] == []
        approved = await client.post(
            "/graphql", json={"query": APPROVE, "variables": variables}, headers=lead
        )
    [error] = approved.json()["data"]["productApprove"]["results"][0]["errors"]
    assert (error["__typename"], error["code"], error["channel"]) == (
        "PublishGateError",
        "PUBLISH_GATE",
        "email",
    )
    checks = {(c["check"], c["message"]) for c in error["checks"]}
    assert (
        "contract.no_fallback",
        "newsletter-item (locale: fr-FR) product.name: fr-FR fell back to en-US",
    ) in checks
    # The fixture's picture is in the mirror but in no DAM: the banner sample is not delivered.
    assert any(
        check == "contract.image" and "slot banner: not delivered: HTTP 404" in message
        for check, message in checks
    )
