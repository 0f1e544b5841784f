"""The contract gate: approving on a channel runs its gated operations for the revision that
would go live, and a violation fails the approval with a typed gate error listing it."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.contracts import ContractGate, manifest_bodies
from resolvers.contracts.config import parse_contracts
from resolvers.db import Catalog
from resolvers.validation import Validator
from resolvers.workflow.gates import Gates
from resolvers.workflow.service import Workflow
from resolvers.writes import validate_with
from resolvers.writes.history import Actor, Provenance
from tests.workflow_fixtures import EDITOR, LEAD, NOW, PROFILES, load, product, services

pytestmark = pytest.mark.indexed

# The shipped email contract without its image sample (the fixtures' pictures are in no DAM).
CONTRACTS = """
[channels.email.operations.newsletter-item]
operation = "EmailProduct"
for_each = "sku"
locales = ["fr-FR"]
products = "product"
gate = true
non_null = ["name", "heroImage.url", "heroImage.alt.text"]
no_fallback = ["fr-FR"]
max_bytes = 2_000
"""


@pytest.fixture
async def flow(db: AsyncDatabase[dict[str, Any]]) -> Workflow:
    catalog = Catalog(db)
    names = {tag: f"Gadget {tag}" for tag in PROFILES.locales.locales if tag != "fr-FR"}
    await load(catalog, [product("WF-OK", 1), product("WF-NOFR", 2, name=names)])
    contracts = parse_contracts(CONTRACTS, "contracts.toml", PROFILES.channels, manifest_bodies())
    gate = ContractGate(contracts, PROFILES.channels)
    validate = validate_with(Validator(PROFILES.validation))
    gates = Gates(catalog, PROFILES.channels, PROFILES.locales, validate, contracts=gate)
    workflow = Workflow(catalog, PROFILES.channels, PROFILES.locales, gates)
    gate.services = services(catalog, workflow=workflow)
    return workflow


async def approve(flow: Workflow, sku: str, channels: list[str]) -> Any:
    [submitted] = await flow.submit([sku], channels, Actor(EDITOR), Provenance())
    assert submitted.ok, submitted.errors
    [outcome] = await flow.approve([sku], channels, Actor(LEAD), Provenance())
    return outcome


async def test_a_product_that_holds_the_contract_is_approved(flow: Workflow) -> None:
    outcome = await approve(flow, "WF-OK", ["email", "web"])
    assert outcome.ok, outcome.errors


async def test_a_violated_expectation_fails_the_approval_naming_it(flow: Workflow) -> None:
    outcome = await approve(flow, "WF-NOFR", ["email"])
    [error] = outcome.errors
    assert (error.code, error.channel) == ("PUBLISH_GATE", "email")
    assert error.message == "WF-NOFR cannot go live on email: contract.no_fallback"
    [failure] = error.failures
    assert failure.check == "contract.no_fallback"
    assert failure.message == (
        "newsletter-item (locale: fr-FR) product.name: fr-FR fell back to en-US"
    )
    document = await flow.catalog.products.find_one({"sku": "WF-NOFR"})
    assert document is not None
    assert document["workflow"]["email"]["state"] == "IN_REVIEW"


async def test_the_gate_judges_the_revision_given_not_the_working_copy(flow: Workflow) -> None:
    stored = await flow.catalog.products.find_one({"sku": "WF-OK"})
    assert stored is not None
    pinned = {**stored, "name": {"en-US": "Gadget"}}
    [failures] = await flow.gates.check([pinned], ["email"], NOW)
    assert [f.check for f in failures] == ["contract.no_fallback"]
    [ok] = await flow.gates.check([stored], ["email"], NOW)
    assert ok == []
