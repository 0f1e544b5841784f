"""Admin API: resources by IDs, by tag, details, update, delete, tags and ping.

Authenticated with HTTP Basic ``api_key:api_secret``. Every response, errors included,
carries the ``X-FeatureRateLimit-*`` headers the SDK exposes as ``rate_limit_allowed``,
``rate_limit_remaining`` and ``rate_limit_reset_at``. GET parameters come in the query
string (arrays as ``key[]``); the SDK sends POST and DELETE parameters as a JSON body.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cloudinary_emulator.config import DELIVERY_TYPES, RESOURCE_TYPES
from cloudinary_emulator.emulator import Emulator
from cloudinary_emulator.errors import ApiError, bad_request, not_found
from cloudinary_emulator.guards import (
    apply_faults,
    base_url,
    check_basic_auth,
    check_cloud,
    emulator_of,
    new_request_id,
    rate_limited,
)
from cloudinary_emulator.notifications import (
    context_changed_payload,
    delete_payload,
    iso_time,
    metadata_changed_payload,
    tags_changed_payload,
)
from cloudinary_emulator.params import (
    bool_param,
    collect_params,
    int_param,
    list_param,
    parse_metadata,
    parse_pairs,
    parse_tags,
    text_param,
)
from cloudinary_emulator.resources import detail_json, list_json
from cloudinary_emulator.store import (
    DEFAULT_MAX_RESULTS,
    MAX_RESULTS_LIMIT,
    Asset,
    AssetKey,
    Direction,
    decode_cursor,
    encode_cursor,
    paginate,
)

MAX_PUBLIC_IDS = 100

Params = dict[str, Any]
Handler = Callable[[Request, Emulator, Params], Awaitable[dict[str, Any]]]


def _endpoint(
    operation: str | Callable[[Params], str], handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        emulator = emulator_of(request)
        params = await _read_params(request)
        emulator.stats.record_admin(operation(params) if callable(operation) else operation)
        quota = emulator.consume_admin_quota()
        headers = {**quota.headers, "X-Request-Id": new_request_id()}
        try:
            await apply_faults(emulator, "admin", quota)
            check_cloud(emulator, request.path_params["cloud"])
            check_basic_auth(emulator, request)
            if quota.exceeded:
                raise rate_limited(quota.limit, quota.reset_at)
            _check_path(request)
            body = await handler(request, emulator, params)
        except ApiError as error:
            return error.to_response(headers)
        return JSONResponse(body, headers=headers)

    return endpoint


async def _read_params(request: Request) -> Params:
    params: Params = dict(collect_params(request.query_params.multi_items()))
    if request.method in ("GET", "HEAD"):
        return params
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            return params
        if isinstance(decoded, dict):
            params.update({key: value for key, value in decoded.items() if value is not None})
        return params
    async with request.form() as form:
        items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    params.update(collect_params(items))
    return params


def _check_path(request: Request) -> None:
    resource_type = request.path_params.get("resource_type")
    if resource_type is not None and resource_type not in RESOURCE_TYPES:
        raise bad_request(f"Invalid resource type {resource_type}")
    delivery_type = request.path_params.get("type")
    if delivery_type is not None and delivery_type not in DELIVERY_TYPES:
        raise bad_request(f"Invalid type {delivery_type}")


def _direction(params: Params) -> Direction:
    value = str(params.get("direction", "desc")).lower()
    if value in ("asc", "1"):
        return "asc"
    if value in ("desc", "-1"):
        return "desc"
    raise bad_request(f"Invalid direction {value}")


def _listing(
    request: Request, emulator: Emulator, params: Params, assets: list[Asset]
) -> dict[str, Any]:
    page, cursor = paginate(
        assets,
        int_param(params, "max_results", DEFAULT_MAX_RESULTS),
        text_param(params, "next_cursor"),
        _direction(params),
    )
    body: dict[str, Any] = {"resources": _entries(request, emulator, params, page)}
    if cursor:
        body["next_cursor"] = cursor
    return body


def _entries(
    request: Request, emulator: Emulator, params: Params, assets: list[Asset]
) -> list[dict[str, Any]]:
    fields = list_param(params, "fields") or None
    return [
        list_json(
            asset,
            base_url=base_url(request),
            cloud_name=emulator.config.cloud_name,
            tags=bool_param(params, "tags"),
            context=bool_param(params, "context"),
            metadata=bool_param(params, "metadata"),
            fields=fields,
        )
        for asset in assets
    ]


# --------------------------------------------------------------------------- reads


def _typed_listing_operation(params: Params) -> str:
    return "resources_by_ids" if "public_ids" in params else "resources"


async def _typed_listing(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    resource_type = request.path_params["resource_type"]
    delivery_type = request.path_params["type"]
    if "public_ids" in params:
        public_ids = list(dict.fromkeys(list_param(params, "public_ids")))
        if len(public_ids) > MAX_PUBLIC_IDS:
            raise bad_request(
                f"Too many public_ids: {len(public_ids)} given, at most {MAX_PUBLIC_IDS} allowed"
            )
        with emulator.lock:
            found = [
                asset
                for public_id in public_ids
                if (asset := emulator.store.get(AssetKey(resource_type, delivery_type, public_id)))
            ]
        return {"resources": _entries(request, emulator, params, found)}
    prefix = text_param(params, "prefix") or ""
    with emulator.lock:
        assets = emulator.store.select(
            lambda asset: (
                asset.resource_type == resource_type
                and asset.type == delivery_type
                and asset.public_id.startswith(prefix)
            ),
            _direction(params),
        )
    return _listing(request, emulator, params, assets)


async def _all_listing(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    resource_type = request.path_params["resource_type"]
    prefix = text_param(params, "prefix") or ""
    with emulator.lock:
        assets = emulator.store.select(
            lambda asset: (
                asset.resource_type == resource_type and asset.public_id.startswith(prefix)
            ),
            _direction(params),
        )
    return _listing(request, emulator, params, assets)


async def _by_tag(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    resource_type = request.path_params["resource_type"]
    tag = request.path_params["tag"]
    with emulator.lock:
        assets = emulator.store.select(
            lambda asset: asset.resource_type == resource_type and tag in asset.tags,
            _direction(params),
        )
    return _listing(request, emulator, params, assets)


def _require(emulator: Emulator, request: Request) -> Asset:
    public_id = request.path_params["public_id"]
    asset = emulator.get_asset(
        public_id, request.path_params["resource_type"], request.path_params["type"]
    )
    if asset is None:
        raise not_found(f"Resource not found - {public_id}")
    return asset


async def _details(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    asset = _require(emulator, request)
    return detail_json(
        asset,
        base_url=base_url(request),
        cloud_name=emulator.config.cloud_name,
        include_phash=bool_param(params, "phash"),
    )


async def _tag_names(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    prefix = text_param(params, "prefix") or ""
    with emulator.lock:
        names = emulator.store.tags(request.path_params["resource_type"])
    return {"tags": [name for name in names if name.startswith(prefix)]}


async def _ping(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    return {"status": "ok"}


# --------------------------------------------------------------------------- search

# The Search API's expression, as far as the emulator understands it: terms joined by AND,
# each a field match or a time comparison (``last_updated>="2026-12-03T10:00:00Z"``, an
# instant at Cloudinary's one-second resolution). Anything else is refused, never ignored.
_SEARCH_TERM = re.compile(r'^(?P<field>[a-z_]+)\s*(?P<op>:|>=|<=|>|<)\s*"?(?P<value>[^"]*)"?$')
_TIME_FIELDS = {"last_updated", "created_at", "uploaded_at"}
_SEARCH_SORTS = {"last_updated", "created_at"}


def _search_time(asset: Asset, field_name: str) -> datetime:
    return asset.last_updated if field_name == "last_updated" else asset.created_at


def _time_check(name: str, compare: Callable[[int, int], bool], bound: int, asset: Asset) -> bool:
    return compare(int(_search_time(asset, name).timestamp()), bound)


def _field_check(name: str, value: str, asset: Asset) -> bool:
    return bool(getattr(asset, name) == value)


def _search_predicate(expression: str) -> Callable[[Asset], bool]:
    checks: list[Callable[[Asset], bool]] = []
    for term in filter(None, (part.strip() for part in re.split(r"\s+AND\s+", expression))):
        match = _SEARCH_TERM.match(term)
        if match is None:
            raise bad_request(f"Unsupported search expression term: {term}")
        name, op, value = match["field"], match["op"], match["value"]
        if name in _TIME_FIELDS and op != ":":
            try:
                instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise bad_request(f"Invalid date in search expression: {value}") from None
            bound = int(instant.timestamp())
            compare: Callable[[int, int], bool] = {
                ">": operator.gt,
                ">=": operator.ge,
                "<": operator.lt,
                "<=": operator.le,
            }[op]
            checks.append(partial(_time_check, name, compare, bound))
        elif name in ("resource_type", "type", "public_id") and op == ":":
            checks.append(partial(_field_check, name, value))
        else:
            raise bad_request(f"Unsupported search expression term: {term}")
    return lambda asset: all(check(asset) for check in checks)


async def _search(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    predicate = _search_predicate(str(params.get("expression") or ""))
    sorts = params.get("sort_by") or [{"created_at": "desc"}]
    if not isinstance(sorts, list) or len(sorts) != 1 or not isinstance(sorts[0], dict):
        raise bad_request("sort_by: one field is supported")
    [(sort_field, direction)] = sorts[0].items()
    if sort_field not in _SEARCH_SORTS or direction not in ("asc", "desc"):
        raise bad_request(f"Unsupported sort_by: {sort_field} {direction}")
    max_results = int_param(params, "max_results", 50)
    if max_results < 1:
        raise bad_request("max_results must be a positive number")
    max_results = min(max_results, MAX_RESULTS_LIMIT)

    def order(asset: Asset) -> int:
        return asset.update_sequence if sort_field == "last_updated" else asset.sequence

    with emulator.lock:
        found = [asset for asset in emulator.store if predicate(asset)]
    # Restored assets (update sequence 0) were last updated when created: creation order.
    found.sort(key=lambda asset: (order(asset), asset.sequence), reverse=direction == "desc")
    total = len(found)
    cursor = text_param(params, "next_cursor")
    if cursor:
        after = decode_cursor(cursor)
        positions = [order(asset) * 1_000_000 + asset.sequence for asset in found]
        found = [
            asset
            for asset, position in zip(found, positions, strict=True)
            if (position > after if direction == "asc" else position < after)
        ]
    page = found[:max_results]
    with_fields = set(list_param(params, "with_field"))
    resources = []
    for asset in page:
        entry = list_json(
            asset,
            base_url=base_url(request),
            cloud_name=emulator.config.cloud_name,
            tags=True,
            context="context" in with_fields,
            metadata="metadata" in with_fields,
            fields=None,
        )
        entry["last_updated"] = {"updated_at": iso_time(asset.last_updated.timestamp())}
        resources.append(entry)
    body: dict[str, Any] = {"total_count": total, "time": 1, "resources": resources}
    if len(found) > max_results:
        last = page[-1]
        body["next_cursor"] = encode_cursor(order(last) * 1_000_000 + last.sequence)
    return body


# --------------------------------------------------------------------------- writes


async def _update(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    now = emulator.clock()
    api_key = emulator.config.api_key
    payloads = []
    with emulator.lock:
        asset = _require(emulator, request)
        if "tags" in params:
            before_tags = list(asset.tags)
            asset.tags = parse_tags(text_param(params, "tags"))
            added = [tag for tag in asset.tags if tag not in before_tags]
            removed = [tag for tag in before_tags if tag not in asset.tags]
            if added or removed:
                payloads.append(tags_changed_payload([(asset, added, removed)], api_key, now))
        if "context" in params:
            # Admin API update replaces the whole context, unlike the context "add" command.
            before_context = dict(asset.context)
            asset.context = parse_pairs(text_param(params, "context"))
            if asset.context != before_context:
                payloads.append(
                    context_changed_payload(
                        [(asset, before_context, dict(asset.context))], api_key, now
                    )
                )
        if "metadata" in params:
            # Structured metadata merges field by field; an empty value clears a field.
            before_metadata = dict(asset.metadata)
            merged = {**before_metadata, **parse_metadata(text_param(params, "metadata"))}
            asset.metadata = {key: value for key, value in merged.items() if value not in ("", [])}
            if asset.metadata != before_metadata:
                payloads.append(
                    metadata_changed_payload(
                        [(asset, before_metadata, dict(asset.metadata))], api_key, now
                    )
                )
        if "display_name" in params:
            asset.display_name = text_param(params, "display_name") or asset.display_name
        if "asset_folder" in params:
            asset.asset_folder = text_param(params, "asset_folder") or ""
        emulator.persist(asset)
        body = detail_json(
            asset,
            base_url=base_url(request),
            cloud_name=emulator.config.cloud_name,
            include_phash=False,
        )
    url = text_param(params, "notification_url") or emulator.notification_url
    if url:
        for payload in payloads:
            emulator.notifier.send(url, payload)
    return body


async def _delete(request: Request, emulator: Emulator, params: Params) -> dict[str, Any]:
    resource_type = request.path_params["resource_type"]
    delivery_type = request.path_params["type"]
    public_ids = list(dict.fromkeys(list_param(params, "public_ids")))
    prefix = text_param(params, "prefix")
    delete_all = bool_param(params, "all")
    if len(public_ids) > MAX_PUBLIC_IDS:
        raise bad_request(
            f"Too many public_ids: {len(public_ids)} given, at most {MAX_PUBLIC_IDS} allowed"
        )
    if bool_param(params, "keep_original"):
        # Only derived assets would go, and the emulator keeps none.
        return {"deleted": {}, "deleted_counts": {}, "partial": False}
    with emulator.lock:
        if not public_ids and (prefix or delete_all):
            public_ids = [
                asset.public_id
                for asset in emulator.store.select(
                    lambda asset: (
                        asset.resource_type == resource_type
                        and asset.type == delivery_type
                        and asset.public_id.startswith(prefix or "")
                    ),
                )
            ]
        elif not public_ids:
            raise bad_request("Missing required parameter - public_ids")
        deleted: dict[str, str] = {}
        counts: dict[str, dict[str, int]] = {}
        removed = []
        for public_id in public_ids:
            asset = emulator.remove_asset(AssetKey(resource_type, delivery_type, public_id))
            deleted[public_id] = "deleted" if asset else "not_found"
            counts[public_id] = {"original": 1 if asset else 0, "derived": 0}
            if asset:
                removed.append(asset)
    url = text_param(params, "notification_url") or emulator.notification_url
    if url and removed:
        emulator.notifier.send(
            url, delete_payload(removed, emulator.config.api_key, emulator.clock())
        )
    return {"deleted": deleted, "deleted_counts": counts, "partial": False}


def admin_routes() -> list[Route]:
    base = "/v1_1/{cloud}"
    resources = base + "/resources/{resource_type}"
    return [
        Route(f"{base}/ping", _endpoint("ping", _ping), methods=["GET"]),
        Route(f"{base}/tags/{{resource_type}}", _endpoint("tags", _tag_names), methods=["GET"]),
        Route(f"{base}/resources/search", _endpoint("search", _search), methods=["POST"]),
        Route(resources, _endpoint("resources", _all_listing), methods=["GET"]),
        Route(
            f"{resources}/tags/{{tag}}",
            _endpoint("resources_by_tag", _by_tag),
            methods=["GET"],
        ),
        Route(
            f"{resources}/{{type}}",
            _endpoint(_typed_listing_operation, _typed_listing),
            methods=["GET"],
        ),
        Route(
            f"{resources}/{{type}}",
            _endpoint("delete_resources", _delete),
            methods=["DELETE"],
        ),
        Route(
            f"{resources}/{{type}}/{{public_id:path}}",
            _endpoint("resource", _details),
            methods=["GET"],
        ),
        Route(
            f"{resources}/{{type}}/{{public_id:path}}",
            _endpoint("update", _update),
            methods=["POST"],
        ),
    ]
