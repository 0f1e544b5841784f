"""Publishing through GraphQL: who may move a product, the gates, and what storefronts read.

In process, as the HTTP edge runs it (``Context.for_request`` with a principal per role). A
storefront reads a channel's publications only: through every entry point it sees the revision
published there, never a later edit, and nothing on a channel where the product is not live.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from resolvers.access import Principal
from resolvers.db import Catalog
from resolvers.services import Services
from schema.context import Context
from schema.global_ids import to_global_id
from tests.command_counter import CommandCounter
from tests.graphql_helpers import shared_schema
from tests.workflow_fixtures import (
    ANONYMOUS,
    EDITOR,
    LEAD,
    NOW,
    OTHER_LEAD,
    STOREFRONT,
    VIEWER,
    WEB_STOREFRONT,
    load,
    product,
    services,
    workflow,
)

pytestmark = pytest.mark.indexed

SKU, HUB, NO_HERO = "WF-1", "WF-HUB", "WF-NOHERO"

SUBMIT = """mutation($skus: [ID!]!, $channels: [String!]) {
  productSubmitForReview(input: {skus: $skus, channels: $channels}) { ...Result } }"""
APPROVE = """mutation($skus: [ID!]!, $channels: [String!]) {
  productApprove(input: {skus: $skus, channels: $channels}) { ...Result } }"""
REJECT = """mutation($skus: [ID!]!, $note: String!) {
  productReject(input: {skus: $skus, note: $note, channels: ["web"]}) { ...Result } }"""
PUBLISH = """mutation($skus: [ID!]!, $channels: [String!], $at: DateTime) {
  productPublish(input: {skus: $skus, channels: $channels, at: $at}) { ...Result } }"""
UNPUBLISH = """mutation($skus: [ID!]!, $channels: [String!]) {
  productUnpublish(input: {skus: $skus, channels: $channels}) { ...Result } }"""
RESULT = """fragment Result on PublishingPayload { succeeded results { sku
  publishing { channel state revision publishedRevision approvedBy publishedBy note }
  errors { __typename code message path
    ... on PublishGateError { channel checks { check channel message hint path } }
    ... on PublishingStateError { channel } } } }"""


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await load(
        catalog,
        [
            product(SKU, 1),
            product(NO_HERO, 2, media=[]),
            product(HUB, 3, accessories=[SKU], related=[SKU], bundle=[{"sku": SKU, "quantity": 1}]),
        ],
    )
    return catalog


@pytest.fixture
def svc(catalog: Catalog) -> Services:
    return services(catalog)


async def run(
    svc: Services,
    principal: Principal,
    query: str,
    variables: dict[str, Any] | None = None,
    **context: Any,
) -> ExecutionResult:
    ctx = Context.for_request(svc, "test", principal, **context)
    try:
        return await shared_schema().execute(query, variable_values=variables, context_value=ctx)
    finally:
        ctx.close()


async def data(
    svc: Services,
    principal: Principal,
    query: str,
    variables: dict[str, Any] | None = None,
    **context: Any,
) -> Any:
    result = await run(svc, principal, query, variables, **context)
    assert result.errors is None, [e.formatted for e in result.errors]
    return result.data


async def move(
    svc: Services, principal: Principal, mutation: str, **variables: Any
) -> dict[str, Any]:
    found = await data(svc, principal, mutation + RESULT, variables)
    [payload] = found.values()
    assert isinstance(payload, dict)
    return payload


def states(payload: dict[str, Any]) -> dict[str, str]:
    [result] = payload["results"]
    return {p["channel"]: p["state"] for p in result["publishing"]}


async def rename(svc: Services, name: str) -> None:
    update = """mutation($name: String!) { productUpdate(input: {sku: "WF-1", expectedRevision: 1,
      name: [{locale: "en-US", value: $name}]}) { errors { message } } }"""
    assert (await data(svc, EDITOR, update, {"name": name}))["productUpdate"]["errors"] == []


async def publish_on(svc: Services, skus: list[str], channels: list[str]) -> None:
    for mutation, who in ((SUBMIT, EDITOR), (APPROVE, LEAD), (PUBLISH, LEAD)):
        payload = await move(svc, who, mutation, skus=skus, channels=channels)
        assert payload["succeeded"] == len(skus), payload


async def test_an_editor_submits_and_cannot_approve_or_publish_a_lead_can(svc: Services) -> None:
    submitted = await move(svc, EDITOR, SUBMIT, skus=[SKU], channels=["web"])
    assert states(submitted) == {"web": "IN_REVIEW"}
    for mutation in (APPROVE, PUBLISH, UNPUBLISH):
        refused = await run(svc, EDITOR, mutation + RESULT, {"skus": [SKU], "channels": ["web"]})
        assert refused.errors is not None
        assert [e.extensions for e in refused.errors] == [
            {"code": "FORBIDDEN", "scope": "catalog:publish"}
        ]
    approved = await move(svc, LEAD, APPROVE, skus=[SKU], channels=["web"])
    [result] = approved["results"]
    assert result["publishing"][0]["approvedBy"] == "lea-key"
    published = await move(svc, LEAD, PUBLISH, skus=[SKU], channels=["web"])
    [result] = published["results"]
    assert result["publishing"] == [
        {
            "channel": "web",
            "state": "PUBLISHED",
            "revision": 1,
            "publishedRevision": 1,
            "approvedBy": "lea-key",
            "publishedBy": "lea-key",
            "note": None,
        }
    ]
    # Publishing needs an approval first.
    early = await move(svc, LEAD, PUBLISH, skus=[HUB], channels=["web"])
    [result] = early["results"]
    assert [(e["__typename"], e["code"]) for e in result["errors"]] == [
        ("PublishingStateError", "INVALID_TRANSITION")
    ]
    assert result["errors"][0]["message"] == ("WF-HUB is DRAFT on web: publish needs APPROVED")


async def test_every_transition_is_a_change_event(svc: Services, catalog: Catalog) -> None:
    await move(svc, EDITOR, SUBMIT, skus=[SKU], channels=["web"])
    await move(svc, LEAD, REJECT, skus=[SKU], note="Hero too dark")
    await publish_on(svc, [SKU], ["web"])
    await move(svc, LEAD, UNPUBLISH, skus=[SKU], channels=["web"])
    events = await catalog.change_events.find({"sku": SKU}).sort("at", 1).to_list()
    assert [
        (e["operation"], e["workflow"]["from"], e["workflow"]["to"], e["actor"]["label"])
        for e in events
    ] == [
        ("workflow.submit", "DRAFT", "IN_REVIEW", "ed-key"),
        ("workflow.reject", "IN_REVIEW", "DRAFT", "lea-key"),
        ("workflow.submit", "DRAFT", "IN_REVIEW", "ed-key"),
        ("workflow.approve", "IN_REVIEW", "APPROVED", "lea-key"),
        ("workflow.publish", "APPROVED", "PUBLISHED", "lea-key"),
        ("workflow.unpublish", "PUBLISHED", "UNPUBLISHED", "lea-key"),
    ]
    assert events[1]["workflow"]["note"] == "Hero too dark"
    assert {e["revision"] for e in events} == {1}
    assert all(e["workflow"]["channel"] == "web" for e in events)
    # Product.history stays the content's: workflow events change no field of the product.
    history = await data(
        svc,
        VIEWER,
        f'{{ product(sku: "{SKU}") {{ history {{ edges {{ node {{ revision }} }} }} }} }}',
    )
    assert history["product"]["history"]["edges"] == []


async def test_a_gate_blocks_a_product_with_a_readiness_blocker_and_says_why(
    svc: Services, catalog: Catalog
) -> None:
    await move(svc, EDITOR, SUBMIT, skus=[SKU, NO_HERO], channels=["web"])
    payload = await move(svc, LEAD, APPROVE, skus=[SKU, NO_HERO], channels=["web"])
    assert payload["succeeded"] == 1
    ok, blocked = payload["results"]
    assert ok["errors"] == []
    assert blocked["sku"] == NO_HERO
    assert blocked["publishing"] == []
    assert blocked["errors"] == [
        {
            "__typename": "PublishGateError",
            "code": "PUBLISH_GATE",
            "message": "WF-NOHERO cannot go live on web: readiness.hero_image",
            "path": ["input", "skus", NO_HERO],
            "channel": "web",
            "checks": [
                {
                    "check": "readiness.hero_image",
                    "channel": "web",
                    "message": "no hero image",
                    "hint": "Upload one: catalog-gateway media ingest FILE --sku SKU --role hero",
                    "path": None,
                }
            ],
        }
    ]
    stored = await catalog.products.find_one({"sku": NO_HERO})
    assert stored is not None
    assert stored["workflow"]["web"]["state"] == "IN_REVIEW"


async def test_edits_after_approval_stay_invisible_until_published_again(
    svc: Services, catalog: Catalog
) -> None:
    await move(svc, EDITOR, SUBMIT, skus=[SKU], channels=["web"])
    await move(svc, LEAD, APPROVE, skus=[SKU], channels=["web"])
    await rename(svc, "Renamed")
    # The approved revision 1 goes live, not the edit.
    await move(svc, LEAD, PUBLISH, skus=[SKU], channels=["web"])
    query = f'{{ product(sku: "{SKU}") {{ revision name(locale: "en-US") }} }}'
    shown = await data(svc, STOREFRONT, query, read_channel="web")
    assert shown["product"] == {"revision": 1, "name": "Gadget WF-1 en-US"}
    assert (await data(svc, EDITOR, query))["product"] == {"revision": 2, "name": "Renamed"}
    approving_again = await move(svc, LEAD, APPROVE, skus=[SKU], channels=["web"])
    assert approving_again["results"][0]["errors"][0]["code"] == "INVALID_TRANSITION"


def entry_points(sku: str, product_id: str) -> str:
    gid = to_global_id("Product", product_id)
    return f"""query($reps: [_Any!]!, $repsById: [_Any!]!) {{
      bySku: product(sku: "{sku}") {{ name(locale: "en-US") }}
      byId: product(id: "{gid}") {{ name(locale: "en-US") }}
      node(id: "{gid}") {{ ... on Product {{ name(locale: "en-US") }} }}
      nodes(ids: ["{gid}"]) {{ ... on Product {{ name(locale: "en-US") }} }}
      entities: _entities(representations: $reps) {{ ... on Product {{ name(locale: "en-US") }} }}
      entitiesById: _entities(representations: $repsById) {{
        ... on Product {{ name(locale: "en-US") }} }}
      listing: products(first: 50) {{ totalCount edges {{ node {{ sku name(locale: "en-US") }} }} }}
      search: products(filter: {{ search: "Gadget" }}) {{ totalCount edges {{ node {{ sku }} }} }}
      category(slug: "gear") {{ products {{ edges {{ node {{ sku }} }} }} }}
      hub: product(sku: "{HUB}") {{ accessories {{ name(locale: "en-US") }}
        related {{ name(locale: "en-US") }} bundleItems {{ product {{ name(locale: "en-US") }} }} }}
    }}"""


async def seen(svc: Services, principal: Principal, product_id: str, **context: Any) -> Any:
    query = entry_points(SKU, product_id)
    variables = {
        "reps": [{"__typename": "Product", "sku": SKU}],
        "repsById": [{"__typename": "Product", "id": to_global_id("Product", product_id)}],
    }
    return await data(svc, principal, query, variables, **context)


def names(found: Any) -> dict[str, Any]:
    """Each entry point's answer for WF-1: its name, or None when it did not show it."""
    listing = {e["node"]["sku"]: e["node"]["name"] for e in found["listing"]["edges"]}
    hub = found["hub"]
    return {
        "bySku": (found["bySku"] or {}).get("name"),
        "byId": (found["byId"] or {}).get("name"),
        "node": (found["node"] or {}).get("name"),
        "nodes": (found["nodes"][0] or {}).get("name"),
        "entities": (found["entities"][0] or {}).get("name"),
        "entitiesById": (found["entitiesById"][0] or {}).get("name"),
        "listing": listing.get(SKU),
        "search": SKU in {e["node"]["sku"] for e in found["search"]["edges"]},
        "category": SKU in {e["node"]["sku"] for e in found["category"]["products"]["edges"]},
        "accessories": [a["name"] for a in hub["accessories"]] if hub else None,
        "related": [a["name"] for a in hub["related"]] if hub else None,
        "bundle": [(b["product"] or {}).get("name") for b in hub["bundleItems"]] if hub else None,
    }


async def test_a_storefront_never_sees_an_unpublished_revision_through_any_entry_point(
    svc: Services, catalog: Catalog
) -> None:
    stored = await catalog.products.find_one({"sku": SKU})
    assert stored is not None
    product_id = str(stored["_id"])
    storefronts: list[tuple[Principal, dict[str, Any]]] = [
        (STOREFRONT, {"read_channel": "web"}),
        (WEB_STOREFRONT, {}),
        (ANONYMOUS, {}),  # the default channel: the first configured, web
    ]
    # Nothing is published yet: storefronts see nothing at all, the editor the working copy.
    for principal, context in storefronts:
        found = await seen(svc, principal, product_id, **context)
        assert found["listing"]["totalCount"] == 0
        assert set(names(found).values()) <= {None, False}
        # Not even its brand: a filter naming it is refused as unknown.
        refused = await run(
            svc, principal, '{ products(filter: {brand: ["Workflow"]}) { totalCount } }', **context
        )
        assert refused.errors is not None
        assert refused.errors[0].extensions is not None
        assert refused.errors[0].extensions["known"] == []
    await publish_on(svc, [SKU, HUB], ["web"])
    await rename(svc, "Unreleased")
    old = "Gadget WF-1 en-US"
    live = {
        "bySku": old,
        "byId": old,
        "node": old,
        "nodes": old,
        "entities": old,
        "entitiesById": old,
        "listing": old,
        "search": True,
        "category": True,
        "accessories": [old],
        "related": [old],
        "bundle": [old],
    }
    for principal, context in storefronts:
        assert names(await seen(svc, principal, product_id, **context)) == live
    edited = names(await seen(svc, EDITOR, product_id))
    assert edited["bySku"] == edited["accessories"][0] == "Unreleased"
    # On a channel where it is not published, a storefront sees none of it.
    mobile = await seen(svc, STOREFRONT, product_id, read_channel="mobile")
    assert mobile["listing"]["totalCount"] == 0
    assert set(names(mobile).values()) <= {None, False}
    # An editor naming the channel sees what its storefronts see.
    assert names(await seen(svc, EDITOR, product_id, read_channel="web")) == live
    # A preview shows the working copy to a storefront.
    previewed = names(await seen(svc, STOREFRONT, product_id, preview=True))
    assert previewed["bySku"] == "Unreleased"
    # Unpublished: gone from the channel at once, wherever it is reached.
    await move(svc, LEAD, UNPUBLISH, skus=[SKU], channels=["web"])
    after = names(await seen(svc, STOREFRONT, product_id, read_channel="web"))
    assert after == {
        **{k: None for k in live},
        "search": False,
        "category": False,
        "accessories": [],
        "related": [],
        "bundle": [None],
    }


async def test_a_storefront_listing_costs_the_commands_of_the_working_copy(
    svc: Services, catalog: Catalog, command_counter: CommandCounter
) -> None:
    await publish_on(svc, [SKU, HUB, NO_HERO][:2], ["web"])
    query = """{ products(first: 20, filter: { brand: ["Workflow"] }) { totalCount
      edges { node { sku name(locale: "en-US") accessories { sku } } } } }"""
    counts = {}
    for label, principal in (("editor", EDITOR), ("storefront", STOREFRONT)):
        svc_fresh = services(catalog)  # no brand list shared from an earlier request
        with command_counter.record(catalog.db.name) as recorded:
            await data(
                svc_fresh, principal, query, read_channel="web" if label == "storefront" else None
            )
        counts[label] = sorted(name for _, name, _ in recorded.commands)
        read = {coll for _, name, coll in recorded.commands if name in ("find", "distinct")}
        assert read == ({"publications.web"} if label == "storefront" else {"products"})
    # The brands a filter may name, the page, its count; accessories on the page are primed.
    assert counts["editor"] == ["aggregate", "distinct", "find"]
    assert counts["storefront"] == counts["editor"]


async def test_a_schedule_waits_and_unpublish_cancels_it(svc: Services, catalog: Catalog) -> None:
    await move(svc, EDITOR, SUBMIT, skus=[SKU], channels=["web"])
    await move(svc, LEAD, APPROVE, skus=[SKU], channels=["web"])
    later = (NOW + timedelta(days=1)).isoformat()
    scheduled = await move(svc, LEAD, PUBLISH, skus=[SKU], channels=["web"], at=later)
    assert states(scheduled) == {"web": "SCHEDULED"}
    assert await catalog.publications("web").count_documents({}) == 0
    cancelled = await move(svc, LEAD, UNPUBLISH, skus=[SKU], channels=["web"])
    assert states(cancelled) == {"web": "UNPUBLISHED"}


async def test_with_four_eyes_the_last_editor_cannot_approve(catalog: Catalog) -> None:
    svc = services(catalog, workflow=workflow(catalog, four_eyes=True))
    update = """mutation { productUpdate(input: {sku: "WF-1", expectedRevision: 1,
      name: [{locale: "en-US", value: "Edited by the lead"}]}) { errors { message } } }"""
    assert (await data(svc, LEAD, update))["productUpdate"]["errors"] == []
    await move(svc, EDITOR, SUBMIT, skus=[SKU], channels=["web"])
    refused = await move(svc, LEAD, APPROVE, skus=[SKU], channels=["web"])
    [result] = refused["results"]
    assert [(e["code"], e["message"]) for e in result["errors"]] == [
        ("FOUR_EYES", "lea-key edited or submitted WF-1; another lead must approve it")
    ]
    approved = await move(svc, OTHER_LEAD, APPROVE, skus=[SKU], channels=["web"])
    assert states(approved) == {"web": "APPROVED"}


async def test_archiving_withdraws_a_product_from_every_channel(
    svc: Services, catalog: Catalog
) -> None:
    await publish_on(svc, [SKU], ["web", "mobile"])
    archive = """mutation { productArchive(input: {sku: "WF-1", expectedRevision: 1}) {
      errors { message } } }"""
    assert (await data(svc, EDITOR, archive))["productArchive"]["errors"] == []
    query = f'{{ product(sku: "{SKU}") {{ sku }} }}'
    for channel in ("web", "mobile"):
        assert (await data(svc, STOREFRONT, query, read_channel=channel))["product"] is None
    events = await catalog.change_events.find(
        {"sku": SKU, "operation": "workflow.unpublish"}
    ).to_list()
    assert sorted((e["workflow"]["channel"], e["workflow"]["note"]) for e in events) == [
        ("mobile", "archived"),
        ("web", "archived"),
    ]
    # Archiving again changes nothing and records nothing more.
    again = """mutation { productArchive(input: {sku: "WF-1"}) { errors { message } } }"""
    assert (await data(svc, EDITOR, again))["productArchive"]["errors"] == []
    assert await catalog.change_events.count_documents({"operation": "workflow.unpublish"}) == 2


WAITING = """query($channel: String!, $states: [PublishingState!]!) {
  products(first: 10, filter: {publishing: {channel: $channel, states: $states}}) {
    edges { node { sku } } } }"""


async def test_a_listing_filters_by_publishing_state_for_those_who_may_read_drafts(
    svc: Services,
) -> None:
    await move(svc, EDITOR, SUBMIT, skus=[SKU, HUB], channels=["web"])
    await move(svc, LEAD, APPROVE, skus=[HUB], channels=["web"])

    async def skus(channel: str, *wanted: str) -> list[str]:
        found = await data(svc, LEAD, WAITING, {"channel": channel, "states": list(wanted)})
        return [edge["node"]["sku"] for edge in found["products"]["edges"]]

    assert await skus("web", "IN_REVIEW") == [SKU]
    assert await skus("web", "IN_REVIEW", "APPROVED") == [SKU, HUB]
    # Never submitted on a channel is a draft there.
    assert await skus("web", "DRAFT") == [NO_HERO]
    assert await skus("mobile", "DRAFT") == [SKU, HUB, NO_HERO]
    assert await skus("WEB", "APPROVED") == [HUB]  # channel names as everywhere else
    # Which products wait for review is not a storefront's business.
    refused = await run(svc, STOREFRONT, WAITING, {"channel": "web", "states": ["IN_REVIEW"]})
    assert refused.errors is not None
    assert [e.extensions for e in refused.errors] == [
        {"code": "FORBIDDEN", "scope": "catalog:read-drafts"}
    ]
    empty = await run(svc, LEAD, WAITING, {"channel": "web", "states": []})
    assert empty.errors is not None
    assert [(e.message, (e.extensions or {}).get("code")) for e in empty.errors] == [
        ("publishing: give at least one state", "BAD_USER_INPUT")
    ]
