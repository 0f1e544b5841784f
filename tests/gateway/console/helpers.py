"""What the console's tests share: the gateway with its lifespan, signing in, pictures."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from demo.pictures import draw_product_image
from demo.placeholders import PLACEHOLDER_SIZES, placeholder_file, placeholder_resource_type
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.assets import DamClient
from resolvers.services import Services
from tests.http_helpers import api_key, serve_with_state

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Products (of the demo) whose every picture the tests upload: approvals pass their gates.
PICTURED = """{ products(first: 40, filter: {readiness: {channel: "web", ready: true}}) {
  edges { node { sku revision name brand } } } }"""
MEDIA = """query($sku: ID!) {
  product(sku: $sku) { media(channel: "web") { publicId resourceType role } } }"""


@asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The gateway's app with its lifespan running, a client for it and its services."""
    async with serve_with_state(create_app(settings)) as (client, state):
        yield client, state["services"]


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/console/sign-in")
    return await client.post(
        "/console/sign-in",
        data={"key": key, "csrf": csrf_of(form), "next": "/console/readiness"},
    )


async def key_of(db: AsyncDatabase[dict[str, Any]], role: str) -> str:
    return (await api_key(db, role))["Authorization"].removeprefix("Bearer ")


async def graphql(
    client: httpx.AsyncClient, key: str, query: str, *, working_copy: bool = False, **variables: Any
) -> dict[str, Any]:
    """``query`` as ``key``; as web's storefronts see the catalog unless ``working_copy``."""
    headers = {"Authorization": f"Bearer {key}"}
    if not working_copy:
        headers["X-Channel"] = "web"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def pictured_product(client: httpx.AsyncClient, key: str, dam: DamClient) -> dict[str, Any]:
    """A product ready on web whose media are all pictures, with each one drawn and uploaded
    to the gateway's Cloudinary (the demo's mirror names them; the DAM starts empty)."""
    found = await graphql(client, key, PICTURED)
    await upload_placeholders(dam)
    for edge in found["products"]["edges"]:
        product = edge["node"]
        media = (await graphql(client, key, MEDIA, sku=product["sku"]))["product"]["media"]
        if media and all(m["resourceType"] == "IMAGE" for m in media):
            await upload_pictures(dam, product, media)
            return {**product, "media": media}
    raise AssertionError("no demo product ready on web with pictures only")


async def upload_pictures(
    dam: DamClient, product: dict[str, Any], media: list[dict[str, Any]]
) -> None:
    async def one(reference: dict[str, Any]) -> None:
        role = str(reference["role"] or "hero").lower()
        data = await asyncio.to_thread(
            draw_product_image,
            sku=product["sku"],
            name=product["name"],
            role=role,
            brand=product["brand"],
        )
        await dam.upload(
            io.BytesIO(data),
            public_id=reference["publicId"],
            context={"role": role, "sku": product["sku"], "alt_en-US": product["name"]},
        )

    await asyncio.gather(*(one(reference) for reference in media))


async def upload_placeholders(dam: DamClient) -> None:
    """What channels deliver in a slot without a usable asset (the manifest shows them)."""

    async def one(public_id: str) -> None:
        _, data = await asyncio.to_thread(placeholder_file, public_id)
        kind = placeholder_resource_type(public_id)
        await dam.upload(io.BytesIO(data), public_id=public_id, resource_type=kind)

    await asyncio.gather(*(one(public_id) for public_id in PLACEHOLDER_SIZES))
