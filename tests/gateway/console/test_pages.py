"""The console's pages through the gateway's own app, as a browser without JavaScript uses
them: sign-in, readiness, a product, the review queue, imports and the audit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access.api_keys import KeySpec
from resolvers.services import Services
from tests.gateway.console.helpers import (
    csrf_of,
    gateway,
    graphql,
    key_of,
    pictured_product,
    sign_in,
)
from tests.http_helpers import eventually, key_store


async def test_sign_in_readiness_audit_and_sign_out(
    settings: Settings, fresh_demo: Services, db: AsyncDatabase[dict[str, Any]]
) -> None:
    viewer, shop = await key_of(db, "viewer"), await key_of(db, "storefront")
    async with gateway(settings) as (client, _):
        assert (
            (await client.get("/console/readiness"))
            .headers["location"]
            .startswith("/console/sign-in?next=")
        )
        refused = await sign_in(client, "cgw_test_nonsense")
        assert refused.status_code == 401
        assert "not accepted" in refused.text

        signed = await sign_in(client, viewer)
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/console" in cookie
        assert viewer not in cookie

        page = await client.get("/console/readiness", params={"ready": "no", "sort": "score"})
        assert page.status_code == 200, page.text
        assert "Score bands" in page.text
        assert "Most-failing checks" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        scores = [int(s) for s in re.findall(r'<td class="num score">(\d+)</td>', page.text)]
        assert scores
        assert scores == sorted(scores)
        assert "ready</span>" not in page.text.replace("not ready</span>", "")
        # A viewer may read, not write or publish: no Imports or Review in the menu.
        assert "/console/imports" not in page.text
        assert "/console/review" not in page.text

        home = await client.get("/console", follow_redirects=True)
        assert home.url.path == "/console/readiness"
        htmx = await client.get("/console/static/htmx.org-2.0.11/htmx.min.js")
        assert htmx.status_code == 200
        assert "javascript" in htmx.headers["content-type"]

        audit = await client.get("/console/audit")
        assert audit.status_code == 200, audit.text
        for section in ("Duplicate media", "Duplicate SKUs", "Missing required attributes"):
            assert section in audit.text

        out = await client.post("/console/sign-out", data={"csrf": csrf_of(page)})
        assert out.status_code == 303
        assert (await client.get("/console/readiness")).status_code == 303

        # A storefront key signs in but may not read the dashboards: the API's answer shows.
        await sign_in(client, shop)
        refused = await client.get("/console/readiness")
        assert refused.status_code == 403
        assert "FORBIDDEN" in refused.text
        # A key that may read only mobile lands on mobile's readiness.
        client.cookies.clear()
        await sign_in(client, await mobile_key(db, settings))
        assert "<h1>Readiness on mobile</h1>" in (await client.get("/console/readiness")).text
        # Over https the session cookie is Secure.
        client.base_url = httpx.URL("https://gateway")
        client.cookies.clear()
        assert "; Secure" in (await sign_in(client, viewer)).headers["set-cookie"]


# A new name, and one picture fewer.
RENAME = """mutation($sku: String!, $revision: Int!, $detach: String!) { productUpdate(input: {
  sku: $sku, expectedRevision: $revision, name: [{locale: "en-US", value: "Renamed in review"}],
  media: {detach: [$detach]}}) { errors { code message } } }"""
STOREFRONT_NAME = "query($sku: ID!) { product(sku: $sku) { name } }"


async def test_an_editor_submits_and_imports_a_lead_approves_and_publishes(
    settings: Settings, fresh_demo: Services, db: AsyncDatabase[dict[str, Any]]
) -> None:
    editor, lead, shop = [await key_of(db, role) for role in ("editor", "lead", "storefront")]
    async with gateway(settings) as (client, services):
        assert services.dam is not None
        product = await pictured_product(client, lead, services.dam)
        sku, published_name = product["sku"], product["name"]
        pictures = [m["publicId"] for m in product["media"]]
        renamed = await graphql(
            client, editor, RENAME, sku=sku, revision=product["revision"], detach=pictures[-1]
        )
        assert renamed["productUpdate"]["errors"] == []

        await sign_in(client, editor)
        page = await client.get(f"/console/products/{sku}", params={"channel": "web"})
        assert page.status_code == 200, page.text
        assert "Media on web" in page.text
        assert "Submit for review" in page.text
        assert 'class="gallery"' in page.text
        assert "<img src=" in page.text
        submitted = await client.post(
            f"/console/products/{sku}",
            data={"csrf": csrf_of(page), "action": "submit", "channel": "web"},
        )
        assert submitted.status_code == 303
        page = await client.get(submitted.headers["location"])
        assert f"submit: {sku} is IN_REVIEW on web" in page.text
        # An editor is offered no approval, and the API refuses one the console is sent.
        assert "Approve</button>" not in page.text
        refused = await client.post(
            f"/console/products/{sku}",
            data={"csrf": csrf_of(page), "action": "approve", "channel": "web"},
        )
        assert refused.status_code == 403
        assert "FORBIDDEN" in refused.text
        # A form without the session's token is refused before the API is asked.
        forged = await client.post(
            f"/console/products/{sku}", data={"action": "submit", "channel": "web"}
        )
        assert forged.status_code == 403

        await import_a_file(client, editor)

        client.cookies.clear()
        await sign_in(client, lead)
        queue = await client.get("/console/review", params={"channel": "web"})
        assert queue.status_code == 200, queue.text
        assert f'data-sku="{sku}"' in queue.text
        assert "Renamed in review" in queue.text
        assert "<code>name.en-US</code>" in queue.text
        # The pictures side by side: published, then in review (one fewer).
        shown_published, shown_in_review = (
            re.findall(r'<img src="[^"]+" alt="([^"]+)"', part)
            for part in queue.text.split('class="media-in-review"')
        )
        assert shown_published[-len(pictures) :] == pictures
        assert shown_in_review == pictures[:-1]
        back = "/console/review?channel=web"
        approved = await client.post(
            f"/console/products/{sku}",
            data={"csrf": csrf_of(queue), "action": "approve", "channel": "web", "back": back},
        )
        assert approved.status_code == 303, approved.text
        queue = await client.get(approved.headers["location"])
        assert f"approve: {sku} is APPROVED on web" in queue.text
        assert (await graphql(client, shop, STOREFRONT_NAME, sku=sku))["product"]["name"] == (
            published_name
        )
        published = await client.post(
            f"/console/products/{sku}",
            data={"csrf": csrf_of(queue), "action": "publish", "channel": "web", "at": ""},
        )
        assert published.status_code == 303, published.text
        assert "PUBLISHED" in (await client.get(published.headers["location"])).text
        assert (await graphql(client, shop, STOREFRONT_NAME, sku=sku))["product"]["name"] == (
            "Renamed in review"
        )


IMPORT_FILE = (
    b'{"sku": "CONSOLE-1", "brand": "Acme", "name": {"en-US": "Console One"}}\n'
    b'{"sku": "CONSOLE-2", "brand": "Acme", "name": {"en-US": "Console Two"}, '
    b'"attributes": {"weight": {"value": 1.2, "unit": "lb"}}}\n'
)


async def import_a_file(client: httpx.AsyncClient, editor: str) -> None:
    """As the signed-in editor: a file with an error checked, its row listed by line; then
    applied without that row, after another file was refused in its place."""
    form = await client.get("/console/imports")
    assert form.status_code == 200, form.text
    job = await run_import(client, csrf_of(form), {"mode": "dry-run"}, IMPORT_FILE)
    rows = re.findall(r'<td class="num line">(\d+)</td><td>([^<]*)</td>', job.text)
    assert rows == [("2", "CONSOLE-2")], job.text
    link = re.search(r'href="(/console/imports\?checksum=[^"]+)"', job.text)
    assert link, job.text
    form = await client.get(link.group(1).replace("&amp;", "&"))
    assert "Choose the file you checked again" in form.text
    checksum = re.search(r'name="checksum" value="([0-9a-f]{64})"', form.text)
    assert checksum
    fields = {"mode": "apply", "checksum": checksum.group(1), "policy": "reject_failed_rows"}
    other = await client.post(
        "/console/imports",
        data={"csrf": csrf_of(form), **fields},
        files={"file": ("products.jsonl", IMPORT_FILE + b"\n", "application/x-ndjson")},
    )
    assert other.status_code == 400
    assert "not the file the dry run checked" in other.text
    applied = await run_import(client, csrf_of(form), fields, IMPORT_FILE)
    counts = re.findall(r'<td class="num">(\d+)</td>', applied.text)[:6]
    assert counts == ["2", "1", "0", "0", "1", "1"], applied.text  # rows … failed, written
    found = await graphql(client, editor, FOUND, working_copy=True, sku="CONSOLE-1")
    assert found["product"] is not None


FOUND = "query($sku: ID!) { product(sku: $sku) { sku } }"


async def run_import(
    client: httpx.AsyncClient, csrf: str, fields: dict[str, str], data: bytes
) -> httpx.Response:
    """Post the file; the job's page once the job is done."""
    sent = await client.post(
        "/console/imports",
        data={"csrf": csrf, "policy": "reject_failed_rows", **fields},
        files={"file": ("products.jsonl", data, "application/x-ndjson")},
    )
    assert sent.status_code == 303, sent.text
    job_url = sent.headers["location"]

    async def finished() -> bool:
        page = await client.get(job_url)
        return 'class="status">SUCCEEDED' in page.text

    await eventually(finished)
    return await client.get(job_url)


async def mobile_key(db: AsyncDatabase[dict[str, Any]], settings: Settings) -> str:
    keys = key_store(db, settings, load_profiles(settings).channels.names())
    spec = KeySpec("mobile only", "viewer", channels=["mobile"], expires_in=timedelta(days=1))
    secret: str = (await keys.create(spec)).secret
    return secret
