"""The authorization matrix (issue 12): every way to a product, for every role and every status.

In process, as the HTTP edge runs it: ``Context.for_request(services, id, principal)`` with a
principal for every role of gateway/roles.toml, the anonymous storefront and a storefront key
restricted to one channel. A small catalog holds a published, a draft and an archived product
and a published hub whose accessories, related products and bundle items are all three.
Without ``catalog:read-drafts`` only the published one may be seen, wherever it is reached.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from strawberry.types import ExecutionResult

from resolvers.access import Principal, Scope, load_roles
from resolvers.db import Catalog, ensure_indexes
from resolvers.services import Services
from resolvers.workflow.publications import backfill
from schema.context import Context
from schema.global_ids import to_global_id
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog, product
from tests.graphql_helpers import services_for, shared_schema

ROLES = load_roles(Path(str(files("gateway").joinpath("roles.toml"))))
STOREFRONT = ROLES.roles["storefront"]
VIEWER = ROLES.roles["viewer"]
PRINCIPALS: dict[str, Principal] = {
    **{
        name: Principal("key", role, f"{name} key", key_id=name)
        for name, role in ROLES.roles.items()
    },
    "anonymous": Principal.anonymous(STOREFRONT),
    "storefront-web-only": Principal(
        "key", STOREFRONT, "web only", key_id="web", channels=frozenset({"web"})
    ),
}

PUB, DRAFT, ARCH, HUB = "MX-PUB-001", "MX-DRAFT-001", "MX-ARCH-001", "MX-HUB-001"
TARGETS = {PUB: "published", DRAFT: "draft", ARCH: "archived"}
IDS = {sku: ObjectId() for sku in (PUB, DRAFT, ARCH, HUB)}
HERO = "mx/hero"


def gid(sku: str) -> str:
    return to_global_id("Product", str(IDS[sku]))


def expected(principal: Principal) -> set[str]:
    """The targets ``principal`` may see: the published one, and the others with drafts."""
    return {
        sku for sku, status in TARGETS.items() if status == "published" or principal.sees_drafts
    }


def matrix_products() -> list[dict[str, Any]]:
    targets = list(TARGETS)
    media = [{"publicId": HERO, "role": "hero", "position": 0}]
    variant = [{"sku": "MX-PUB-001-RED", "options": {"color": "red"}}]
    documents = [
        product(
            sku,
            10 + n,
            _id=IDS[sku],
            status=status,
            brand="Hidden" if status == "draft" else "Matrix",
            categories=["socks"],
            name={"en-US": f"Matrixware {status}"},
            accessories=[DRAFT, ARCH] if sku == PUB else [],
            variants=variant if sku == PUB else [],
            media=media,
        )
        for n, (sku, status) in enumerate(TARGETS.items())
    ]
    documents.append(
        product(
            HUB,
            20,
            _id=IDS[HUB],
            brand="Matrix",
            categories=["home"],
            name={"en-US": "Matrixware hub"},
            accessories=targets,
            related=targets,
            bundle=[{"sku": sku, "quantity": 1} for sku in targets],
            media=media,
        )
    )
    return documents


@pytest.fixture(scope="module")
async def catalog(mongo_client: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[Catalog]:
    """One seeded database for the whole module: every test here only reads."""
    name = f"test_authz_{uuid.uuid4().hex[:12]}"
    catalog = Catalog(mongo_client[name])
    await load_small_catalog(catalog)
    await catalog.products.insert_many(matrix_products())
    now = datetime.now(UTC)
    await catalog.assets.insert_one(
        {
            "publicId": HERO,
            "resourceType": "image",
            "status": "active",
            "width": 2000,
            "height": 2000,
            "format": "jpg",
            "alt": {"en-US": "A hero"},
            "checkedAt": now,
            "updatedAt": now,
        }
    )
    # What was published before publications existed is published on every channel (as
    # `catalog-gateway migrate` does): storefronts read those snapshots only.
    services = services_for(catalog)
    await ensure_indexes(catalog, services.locales.locales, services.channels.names())
    await backfill(catalog, services.channels, services.locales, now)
    yield catalog
    await mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def services(catalog: Catalog) -> Services:
    return services_for(catalog)


async def run(
    services: Services, principal: Principal, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    context = Context.for_request(services, "test", principal)
    try:
        return await shared_schema().execute(
            query, variable_values=variables, context_value=context
        )
    finally:
        context.close()


async def data(
    services: Services, principal: Principal, query: str, variables: dict[str, Any] | None = None
) -> Any:
    result = await run(services, principal, query, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data


def alias(sku: str) -> str:
    return "p_" + sku.replace("-", "_")


def non_null_skus(found: dict[str, Any]) -> set[str]:
    return {sku for sku in TARGETS if found[alias(sku)] is not None}


# Every entry point answers the set of target SKUs it showed to the principal.
Entry = Callable[[Services, Principal], Awaitable[set[str]]]


async def by_sku(services: Services, principal: Principal) -> set[str]:
    fields = " ".join(f'{alias(s)}: product(sku: "{s}") {{ sku }}' for s in TARGETS)
    return non_null_skus(await data(services, principal, f"{{ {fields} }}"))


async def by_id(services: Services, principal: Principal) -> set[str]:
    fields = " ".join(f'{alias(s)}: product(id: "{gid(s)}") {{ sku }}' for s in TARGETS)
    return non_null_skus(await data(services, principal, f"{{ {fields} }}"))


async def node(services: Services, principal: Principal) -> set[str]:
    fields = " ".join(
        f'{alias(s)}: node(id: "{gid(s)}") {{ ... on Product {{ sku }} }}' for s in TARGETS
    )
    return non_null_skus(await data(services, principal, f"{{ {fields} }}"))


async def nodes(services: Services, principal: Principal) -> set[str]:
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Product { sku } } }"
    found = await data(services, principal, query, {"ids": [gid(s) for s in TARGETS]})
    return {n["sku"] for n in found["nodes"] if n is not None}


ENTITIES = """query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { sku } } }"""


async def entities_by_sku(services: Services, principal: Principal) -> set[str]:
    representations = [{"__typename": "Product", "sku": s} for s in TARGETS]
    found = await data(services, principal, ENTITIES, {"representations": representations})
    return {e["sku"] for e in found["_entities"] if e is not None}


async def entities_by_id(services: Services, principal: Principal) -> set[str]:
    representations = [{"__typename": "Product", "id": gid(s)} for s in TARGETS]
    found = await data(services, principal, ENTITIES, {"representations": representations})
    return {e["sku"] for e in found["_entities"] if e is not None}


async def listing(services: Services, principal: Principal) -> set[str]:
    query = "{ products(first: 100) { totalCount edges { node { sku } } } }"
    page = (await data(services, principal, query))["products"]
    assert page["totalCount"] == len(page["edges"])
    return {e["node"]["sku"] for e in page["edges"]} & set(TARGETS)


async def status_filter(services: Services, principal: Principal) -> set[str]:
    """Filtering on a status the principal may not see matches nothing (totalCount 0)."""
    fields = " ".join(
        f"{alias(s)}: products(filter: {{ status: [{status.upper()}], brand: "
        f'["Matrix", "Hidden"], category: "socks" }}) {{ totalCount edges {{ node {{ sku }} }} }}'
        for s, status in TARGETS.items()
    )
    query = f"{{ {fields} }}"
    result = await run(services, principal, query)
    if not principal.sees_drafts:
        # A brand only drafts use is unknown to a storefront: refused, and not listed as known.
        assert result.errors is not None
        assert {e.extensions["code"] for e in result.errors if e.extensions} == {"BAD_USER_INPUT"}
        assert all("Hidden" not in e.extensions["known"] for e in result.errors if e.extensions)
        fields = fields.replace('"Matrix", "Hidden"', '"Matrix"')
        result = await run(services, principal, f"{{ {fields} }}")
    assert result.errors is None
    assert result.data is not None
    counted = {s for s in TARGETS if result.data[alias(s)]["totalCount"] > 0}
    listed = {e["node"]["sku"] for s in TARGETS for e in result.data[alias(s)]["edges"]}
    assert counted == listed
    return listed


async def search(services: Services, principal: Principal) -> set[str]:
    query = """{ products(filter: { search: "Matrixware" }, sort: { field: NAME }) {
      totalCount edges { node { sku } } } }"""
    page = (await data(services, principal, query))["products"]
    assert page["totalCount"] == len(page["edges"])
    return {e["node"]["sku"] for e in page["edges"]} & set(TARGETS)


async def cursors(services: Services, principal: Principal) -> set[str]:
    """One product per page, walking the cursors: no page and no cursor reaches a draft."""
    query = """query($after: String) { products(first: 1, after: $after, filter: {
      category: "socks" }) { edges { node { sku } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after: str | None = None
    while True:
        page = (await data(services, principal, query, {"after": after}))["products"]
        seen += [e["node"]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    return set(seen) & set(TARGETS)


async def category_products(services: Services, principal: Principal) -> set[str]:
    query = """{ category(slug: "apparel") { products(first: 100) {
      totalCount edges { node { sku } } } } }"""
    page = (await data(services, principal, query))["category"]["products"]
    assert page["totalCount"] == len(page["edges"])
    return {e["node"]["sku"] for e in page["edges"]} & set(TARGETS)


async def accessories_of_product(services: Services, principal: Principal) -> set[str]:
    """Relations prefetched by the lookahead of ``product``."""
    query = f'{{ product(sku: "{HUB}") {{ accessories {{ sku }} }} }}'
    found = await data(services, principal, query)
    return {p["sku"] for p in found["product"]["accessories"]}


async def related_on_a_page(services: Services, principal: Principal) -> set[str]:
    """Relations prefetched for a whole listing page."""
    query = """{ products(filter: { category: "home" }) {
      edges { node { sku related { sku } } } } }"""
    edges = (await data(services, principal, query))["products"]["edges"]
    return {p["sku"] for e in edges if e["node"]["sku"] == HUB for p in e["node"]["related"]}


async def bundle_of_entity(services: Services, principal: Principal) -> set[str]:
    """Relations prefetched for ``_entities``; a hidden component is null, like a missing one."""
    query = """query($representations: [_Any!]!) { _entities(representations: $representations) {
      ... on Product { bundleItems { sku quantity product { sku status } } } } }"""
    representations = [{"__typename": "Product", "sku": HUB}]
    found = await data(services, principal, query, {"representations": representations})
    items = found["_entities"][0]["bundleItems"]
    assert [i["sku"] for i in items] == list(TARGETS)
    return {i["product"]["sku"] for i in items if i["product"] is not None}


async def accessories_of_node(services: Services, principal: Principal) -> set[str]:
    """Relations nothing prefetched (``node`` does not): loaded by the field itself."""
    query = f'{{ node(id: "{gid(HUB)}") {{ ... on Product {{ accessories {{ sku }} }} }} }}'
    found = await data(services, principal, query)
    return {p["sku"] for p in found["node"]["accessories"]}


async def two_levels(services: Services, principal: Principal) -> set[str]:
    """The hub's related products and their accessories: the lookahead's second level."""
    query = f'{{ product(sku: "{HUB}") {{ related {{ sku accessories {{ sku }} }} }} }}'
    related = (await data(services, principal, query))["product"]["related"]
    return {p["sku"] for p in related} | {a["sku"] for p in related for a in p["accessories"]}


ENTRY_POINTS: dict[str, Entry] = {
    "product(sku)": by_sku,
    "product(id)": by_id,
    "node": node,
    "nodes": nodes,
    "_entities(sku)": entities_by_sku,
    "_entities(id)": entities_by_id,
    "products": listing,
    "products(statuses)": status_filter,
    "products(search)": search,
    "products(after)": cursors,
    "category.products": category_products,
    "accessories": accessories_of_product,
    "related": related_on_a_page,
    "bundleItems": bundle_of_entity,
    "accessories(unprefetched)": accessories_of_node,
    "related.accessories": two_levels,
}


@pytest.mark.parametrize("principal", list(PRINCIPALS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
async def test_products_reached_through_every_entry_point(
    services: Services, entry: str, principal: str
) -> None:
    who = PRINCIPALS[principal]
    assert await ENTRY_POINTS[entry](services, who) == expected(who)


def test_the_matrix_covers_every_role() -> None:
    assert set(ROLES.roles) <= set(PRINCIPALS)
    assert {p.sees_drafts for p in PRINCIPALS.values()} == {True, False}


# Root fields and fields that need a scope: denied ones answer FORBIDDEN naming it.
AUDIT = "{ catalogAudit(limit: 5) { duplicateSkus { total } } }"
DASHBOARD = '{ catalogReadiness(channel: "web") { products ready } }'


def forbidden(result: ExecutionResult) -> list[tuple[list[str | int], str | None]]:
    errors = result.errors or []
    assert all(e.extensions and e.extensions["code"] == "FORBIDDEN" for e in errors)
    return [(list(e.path or []), (e.extensions or {}).get("scope")) for e in errors]


@pytest.mark.parametrize("principal", list(PRINCIPALS))
@pytest.mark.parametrize(
    ("field", "query"), [("catalogAudit", AUDIT), ("catalogReadiness", DASHBOARD)]
)
async def test_audit_root_fields_need_audit_read(
    catalog: Catalog, command_counter: CommandCounter, principal: str, field: str, query: str
) -> None:
    who = PRINCIPALS[principal]
    # Fresh services: nothing cached between requests can stand in for a command not sent.
    services = services_for(catalog)
    with command_counter.record(catalog.products.database.name) as recorded:
        result = await run(services, who, query)
    if who.has(Scope.AUDIT_READ):
        assert result.errors is None, [e.formatted for e in result.errors]
        assert result.data is not None
        assert result.data[field] is not None
        assert recorded.commands
    else:
        assert forbidden(result) == [([field], "audit:read")]
        assert result.data is None  # both are non-null root fields
        assert recorded.commands == []


@pytest.mark.parametrize("principal", list(PRINCIPALS))
async def test_readiness_checks_need_audit_read_and_the_score_does_not(
    services: Services, principal: str
) -> None:
    who = PRINCIPALS[principal]
    query = f"""{{ product(sku: "{PUB}") {{ sku readiness(channel: "web") {{
      score ready locales checks {{ id }} missingLocales missingRoles }} }} }}"""
    result = await run(services, who, query)
    assert result.data is not None
    readiness = result.data["product"]["readiness"]
    assert isinstance(readiness["score"], int)
    details = ("checks", "missingLocales", "missingRoles")
    if who.has(Scope.AUDIT_READ):
        assert result.errors is None
        assert readiness["checks"]
    else:
        assert sorted(forbidden(result)) == sorted(
            (["product", "readiness", name], "audit:read") for name in details
        )
        assert all(readiness[name] is None for name in details)


# Every argument named ``channel``: a key restricted to "web" is refused "mobile" at the field.
CHANNEL_FIELDS: dict[str, tuple[str, list[str | int]]] = {
    "media": (f'{{ product(sku: "{PUB}") {{ media(channel: $c) {{ publicId }} }} }}', ["media"]),
    "heroImage": (
        f'{{ product(sku: "{PUB}") {{ heroImage(channel: $c) {{ publicId }} }} }}',
        ["heroImage"],
    ),
    "mediaManifest": (
        f'{{ product(sku: "{PUB}") {{ mediaManifest(channel: $c) {{ complete }} }} }}',
        ["mediaManifest"],
    ),
    "readiness": (
        f'{{ product(sku: "{PUB}") {{ readiness(channel: $c) {{ score }} }} }}',
        ["readiness"],
    ),
    "variant.media": (
        f'{{ product(sku: "{PUB}") {{ variants {{ media(channel: $c) {{ publicId }} }} }} }}',
        ["variants", 0, "media"],
    ),
    "variant.swatch": (
        f'{{ product(sku: "{PUB}") {{ variants {{ swatch(channel: $c) {{ publicId }} }} }} }}',
        ["variants", 0, "swatch"],
    ),
    "MediaAsset.url": (
        f'{{ product(sku: "{PUB}") {{ media(channel: "web") {{ url(slot: "card", channel: $c) '
        "} } }",
        ["media", 0, "url"],
    ),
    "products(sort)": (
        "{ products(sort: { field: READINESS, channel: $c }) { edges { node { sku } } } }",
        [],
    ),
    "products(filter)": (
        "{ products(filter: { readiness: { channel: $c, ready: true } }) { totalCount } }",
        [],
    ),
}


def channel_query(template: str) -> str:
    return "query($c: String!) " + template


@pytest.mark.parametrize("field", list(CHANNEL_FIELDS))
async def test_a_key_restricted_to_channels_is_refused_the_others(
    services: Services, field: str
) -> None:
    template, below = CHANNEL_FIELDS[field]
    web_only = PRINCIPALS["storefront-web-only"]
    query = channel_query(template)
    assert (await run(services, web_only, query, {"c": "web"})).errors is None
    for principal in (PRINCIPALS["storefront"], PRINCIPALS["anonymous"]):
        assert (await run(services, principal, query, {"c": "mobile"})).errors is None
    result = await run(services, web_only, query, {"c": "MOBILE"})
    assert result.errors is not None
    assert len(result.errors) == 1
    error = result.errors[0]
    root = "products" if field.startswith("products") else "product"
    assert error.path == [root, *below]
    assert error.extensions == {"code": "FORBIDDEN", "argumentName": "channel", "channel": "mobile"}
    assert "'mobile'" in error.message
    # An unknown channel stays a request error, before execution, whoever asks.
    unknown = await run(services, web_only, query, {"c": "nowhere"})
    assert unknown.data is None
    assert unknown.errors is not None
    assert unknown.errors[0].extensions is not None
    assert unknown.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_channel_restricted_dashboards_and_channel_list(services: Services) -> None:
    web_viewer = Principal("key", VIEWER, "web viewer", channels=frozenset({"web"}))
    refused = await run(services, web_viewer, '{ catalogReadiness(channel: "mobile") { ready } }')
    assert forbidden(refused) == [(["catalogReadiness"], None)]
    allowed = await data(services, web_viewer, '{ catalogReadiness(channel: "web") { ready } }')
    assert isinstance(allowed["catalogReadiness"]["ready"], int)
    listed = await data(services, web_viewer, "{ channels { name } }")
    assert listed["channels"] == [{"name": "web"}]
    everything = await data(services, PRINCIPALS["storefront"], "{ channels { name } }")
    assert [c["name"] for c in everything["channels"]] == list(services.channels.names())
