"""Upload API: ``POST /v1_1/{cloud}/{resource_type}/{upload|destroy|tags|context}``.

Requests are multipart forms signed with the API secret (see ``signing``); arrays arrive as
repeated ``key[]`` fields. Only signed requests are accepted: upload presets and unsigned
uploads are not emulated.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cloudinary_emulator.config import DELIVERY_TYPES, RESOURCE_TYPES
from cloudinary_emulator.emulator import Emulator
from cloudinary_emulator.errors import ApiError, DeliveryError, bad_request, unauthorized
from cloudinary_emulator.guards import (
    apply_faults,
    base_url,
    check_cloud,
    emulator_of,
    new_request_id,
)
from cloudinary_emulator.media import (
    VIDEO_CONTEXT_KEYS,
    VIDEO_FORMATS,
    ImageInfo,
    UndecodableImageError,
    image_info,
    normalise_format,
    open_image,
    probe_image,
    probe_video,
)
from cloudinary_emulator.notifications import (
    context_changed_payload,
    delete_payload,
    iso_time,
    tags_changed_payload,
    upload_payload,
)
from cloudinary_emulator.params import (
    bool_param,
    collect_params,
    list_param,
    parse_metadata,
    parse_pairs,
    parse_tags,
    text_param,
)
from cloudinary_emulator.rendering import choose_format, encode, render
from cloudinary_emulator.resources import upload_json
from cloudinary_emulator.signing import ParamValue, string_to_sign, verify_params_signature
from cloudinary_emulator.store import Asset, AssetKey
from cloudinary_emulator.transformations import parse_transformation

# Never part of the string to sign (Cloudinary's rule for every signed request).
_UNSIGNED_PARAMS = frozenset({"signature", "api_key", "file", "resource_type", "cloud_name"})
# The SDKs leave these out of the signature for the tags and context commands only; both
# forms are accepted everywhere.
_NOTIFICATION_PARAMS = ("notification_url", "batch_id")
_MAX_FORM_PART = 256 * 1024 * 1024
_MAX_TAGGED_IDS = 1000

FileParam = tuple[str, bytes] | str | None


@dataclass(frozen=True, slots=True)
class UploadCall:
    emulator: Emulator
    request_id: str
    base_url: str
    resource_type: str
    params: dict[str, ParamValue]
    file: FileParam

    def notify(self, payload: dict[str, Any]) -> None:
        url = text_param(self.params, "notification_url") or self.emulator.notification_url
        if url:
            self.emulator.notifier.send(url, payload)

    def delivery_type(self) -> str:
        delivery_type = text_param(self.params, "type") or "upload"
        if delivery_type not in DELIVERY_TYPES:
            raise bad_request(f"Invalid type parameter: {delivery_type}")
        return delivery_type


Handler = Callable[[UploadCall], Awaitable[dict[str, Any]]]


def _endpoint(operation: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        emulator = emulator_of(request)
        emulator.stats.record_upload(operation)
        request_id = new_request_id()
        headers = {"X-Request-Id": request_id}
        try:
            # The body is read before anything can refuse the request, so a client still
            # sending a large file gets its answer instead of a reset connection.
            params, file = await _read_form(request)
            await apply_faults(emulator, "upload")
            check_cloud(emulator, request.path_params["cloud"])
            resource_type = request.path_params["resource_type"]
            allowed = (*RESOURCE_TYPES, "auto") if operation == "upload" else RESOURCE_TYPES
            if resource_type not in allowed:
                raise bad_request(f"Invalid resource type {resource_type}")
            _check_signature(emulator, params)
            call = UploadCall(emulator, request_id, base_url(request), resource_type, params, file)
            body = await handler(call)
        except ApiError as error:
            return error.to_response(headers)
        return JSONResponse(body, headers=headers)

    return endpoint


async def _read_form(request: Request) -> tuple[dict[str, ParamValue], FileParam]:
    items: list[tuple[str, str]] = []
    file: FileParam = None
    try:
        async with request.form(max_part_size=_MAX_FORM_PART) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if key == "file":
                        file = (value.filename or "file", await value.read())
                elif key == "file":
                    file = value
                else:
                    items.append((key, value))
    except HTTPException as error:
        raise bad_request(f"Malformed form body: {error.detail}") from None
    return collect_params(items), file


def _check_signature(emulator: Emulator, params: dict[str, ParamValue]) -> None:
    config = emulator.config
    api_key = text_param(params, "api_key")
    signature = text_param(params, "signature")
    if not api_key and not signature:
        if params.get("upload_preset"):
            raise bad_request("Upload presets (unsigned uploads) are not supported by the emulator")
        raise bad_request("Upload preset must be specified when using unsigned upload")
    if not api_key:
        raise unauthorized("Must supply api_key")
    if api_key != config.api_key:
        raise unauthorized(f"Unknown API key {api_key}")
    if not signature:
        raise unauthorized("Missing required parameter - signature")
    timestamp_text = text_param(params, "timestamp")
    if not timestamp_text:
        raise bad_request("Missing required parameter - timestamp")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise bad_request(f"Invalid timestamp {timestamp_text}") from None
    if timestamp < emulator.clock() - config.max_request_age_s:
        reported = iso_time(timestamp).replace("T", " ").replace("Z", " +0000")
        raise unauthorized(
            f"Stale request - reported time is {reported} which is more than 1 hour ago"
        )
    signable = {key: value for key, value in params.items() if key not in _UNSIGNED_PARAMS}
    without_notification = {
        key: value for key, value in signable.items() if key not in _NOTIFICATION_PARAMS
    }
    if not verify_params_signature([signable, without_notification], signature, config.api_secret):
        raise unauthorized(
            f"Invalid Signature {signature}. String to sign - '{string_to_sign(signable)}'."
        )


# --------------------------------------------------------------------------- upload


def _file_bytes(file: FileParam) -> tuple[bytes, str]:
    """The uploaded bytes and the original filename."""
    if file is None:
        raise bad_request("Missing required parameter - file")
    if isinstance(file, tuple):
        return file[1], os.path.basename(file[0])
    if file.startswith("data:"):
        header, _, payload = file.partition(",")
        if not header.endswith(";base64"):
            raise bad_request("Only base64 data URIs are supported")
        try:
            return base64.b64decode(payload, validate=False), "file"
        except (binascii.Error, ValueError):
            raise bad_request("Invalid data URI") from None
    raise bad_request(
        "Uploading from a remote URL is not supported by the emulator (it has no network)"
    )


def _choose_public_id(call: UploadCall, resource_type: str, filename: str, extension: str) -> str:
    params = call.params
    public_id = text_param(params, "public_id")
    if not public_id:
        stem = os.path.splitext(filename)[0]
        if bool_param(params, "use_filename") and stem and stem not in ("file", "stream"):
            public_id = stem
            if bool_param(params, "unique_filename", True):
                public_id = f"{stem}_{call.emulator.new_public_id()[:6]}"
        else:
            public_id = call.emulator.new_public_id()
        if resource_type == "raw" and extension:
            # Raw assets keep their extension in the public ID; there is no format field.
            public_id = f"{public_id}.{extension}"
    prefix = text_param(params, "public_id_prefix")
    folder = (text_param(params, "folder") or "").strip("/")
    if prefix:
        public_id = f"{prefix.strip('/')}/{public_id}"
    if folder:
        public_id = f"{folder}/{public_id}"
    return public_id


def _resolve_resource_type(requested: str, data: bytes, extension: str) -> str:
    if requested != "auto":
        return requested
    if extension in VIDEO_FORMATS:
        return "video"
    try:
        open_image(data)
    except UndecodableImageError:
        return "raw"
    return "image"


def _prepare_image(
    data: bytes,
    transformation: str | None,
    named: Mapping[str, str],
    target_format: str | None,
    allowed: list[str],
) -> tuple[bytes, ImageInfo]:
    """Decode (rejecting what is not an image), apply an incoming transformation, and probe
    what is stored."""
    try:
        image, source_format = open_image(data)
    except UndecodableImageError as error:
        raise bad_request(f"Invalid image file ({error})") from None
    stored: Image.Image | None = image  # decoded from the bytes kept, when they are the upload's
    if transformation or (target_format and target_format != source_format):
        stored = None
        try:
            parsed = parse_transformation((transformation or "").split("/"), named)
            rendered = render(image, parsed)
            fmt = choose_format(parsed, target_format, source_format, "", rendered.mode == "RGBA")
            data, source_format = encode(rendered, fmt, parsed.quality, parsed.background), fmt
        except DeliveryError as error:
            raise bad_request(error.message) from None
    if allowed and source_format not in allowed:
        raise bad_request(f"Image format {source_format} not allowed")
    # The hash is of what is stored: a transformed upload's encoded bytes, decoded again.
    info = probe_image(data) if stored is None else image_info(stored, source_format)
    return data, info


async def _upload(call: UploadCall) -> dict[str, Any]:
    params = call.params
    emulator = call.emulator
    data, filename = _file_bytes(call.file)
    extension = normalise_format(os.path.splitext(filename)[1].lstrip("."))
    resource_type = _resolve_resource_type(call.resource_type, data, extension)
    delivery_type = call.delivery_type()
    context = parse_pairs(text_param(params, "context"))
    target_format = text_param(params, "format")
    allowed = [normalise_format(fmt) for fmt in list_param(params, "allowed_formats")]
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    phash: str | None = None
    fmt: str | None
    if resource_type == "image":
        data, info = await run_in_threadpool(
            _prepare_image,
            data,
            text_param(params, "transformation"),
            dict(emulator.named_transformations),
            normalise_format(target_format) if target_format else None,
            allowed,
        )
        fmt = info.format
        width, height, phash = info.width, info.height, info.phash
    elif resource_type == "video":
        config = emulator.config
        video = probe_video(
            data,
            context,
            (config.default_video_width, config.default_video_height),
            config.default_video_duration_s,
        )
        # Emulator directives, not the client's data: keep them out of the stored context.
        context = {key: value for key, value in context.items() if key not in VIDEO_CONTEXT_KEYS}
        width, height, duration = video.width, video.height, video.duration
        fmt = normalise_format(target_format or extension or "mp4")
        if fmt not in VIDEO_FORMATS:
            fmt = "mp4"
    else:
        fmt = extension or None
    asset, existed = emulator.save_asset(
        resource_type=resource_type,
        type=delivery_type,
        public_id=_choose_public_id(call, resource_type, filename, extension),
        data=data,
        format=fmt,
        width=width,
        height=height,
        tags=parse_tags(text_param(params, "tags")),
        context=context,
        metadata=parse_metadata(text_param(params, "metadata")),
        phash=phash,
        duration=duration,
        original_filename=os.path.splitext(filename)[0],
        overwrite=bool_param(params, "overwrite", True),
    )
    body = upload_json(
        asset,
        base_url=call.base_url,
        cloud_name=emulator.config.cloud_name,
        api_key=emulator.config.api_key,
        api_secret=emulator.config.api_secret,
        algorithm=emulator.config.signature_algorithm,
        include_phash=bool_param(params, "phash"),
        existing=existed,
    )
    if not existed:
        now = emulator.clock()
        call.notify(upload_payload(body, call.request_id, emulator.config.api_key, now))
    return body


# --------------------------------------------------------------------------- destroy


async def _destroy(call: UploadCall) -> dict[str, Any]:
    public_id = text_param(call.params, "public_id")
    if not public_id:
        raise bad_request("Missing required parameter - public_id")
    key = AssetKey(call.resource_type, call.delivery_type(), public_id)
    removed = call.emulator.remove_asset(key)
    if removed is None:
        return {"result": "not found"}
    emulator = call.emulator
    call.notify(delete_payload([removed], emulator.config.api_key, emulator.clock()))
    return {"result": "ok"}


# --------------------------------------------------------------------------- tags


def _public_ids(call: UploadCall) -> list[str]:
    public_ids = list_param(call.params, "public_ids")
    if not public_ids:
        raise bad_request("Missing required parameter - public_ids")
    if len(public_ids) > _MAX_TAGGED_IDS:
        raise bad_request(f"Too many public_ids (maximum is {_MAX_TAGGED_IDS})")
    return public_ids


async def _tags(call: UploadCall) -> dict[str, Any]:
    emulator = call.emulator
    command = text_param(call.params, "command") or ""
    tags = parse_tags(text_param(call.params, "tag"))
    if command not in ("add", "remove", "replace", "remove_all", "set_exclusive"):
        raise bad_request(f"Invalid command {command}")
    if command != "remove_all" and not tags:
        raise bad_request("Missing required parameter - tag")
    delivery_type = call.delivery_type()
    public_ids = _public_ids(call)
    changes: list[tuple[Asset, list[str], list[str]]] = []
    updated: list[str] = []
    with emulator.lock:
        if command == "set_exclusive":
            # The tag moves to these assets alone, as if removed everywhere else first.
            for other in emulator.store:
                if other.resource_type == call.resource_type and other.public_id not in public_ids:
                    dropped = [tag for tag in other.tags if tag in tags]
                    if dropped:
                        other.tags = [tag for tag in other.tags if tag not in tags]
                        changes.append((other, [], dropped))
        for public_id in public_ids:
            asset = emulator.store.get(AssetKey(call.resource_type, delivery_type, public_id))
            if asset is None:
                continue
            before = list(asset.tags)
            if command in ("add", "set_exclusive"):
                after = before + [tag for tag in tags if tag not in before]
            elif command == "remove":
                after = [tag for tag in before if tag not in tags]
            elif command == "replace":
                after = list(tags)
            else:
                after = []
            asset.tags = after
            updated.append(public_id)
            added = [tag for tag in after if tag not in before]
            removed = [tag for tag in before if tag not in after]
            if added or removed:
                changes.append((asset, added, removed))
            elif after != before:
                emulator.persist(asset)  # Reordered only: no webhook, still a change.
        emulator.persist(*(changed for changed, _, _ in changes))
    if changes:
        call.notify(tags_changed_payload(changes, emulator.config.api_key, emulator.clock()))
    return {"public_ids": updated}


# --------------------------------------------------------------------------- context


async def _context(call: UploadCall) -> dict[str, Any]:
    emulator = call.emulator
    command = text_param(call.params, "command") or ""
    if command not in ("add", "remove_all"):
        raise bad_request(f"Invalid command {command}")
    additions = parse_pairs(text_param(call.params, "context"))
    if command == "add" and not additions:
        raise bad_request("Missing required parameter - context")
    delivery_type = call.delivery_type()
    changes: list[tuple[Asset, dict[str, str], dict[str, str]]] = []
    updated: list[str] = []
    with emulator.lock:
        for public_id in _public_ids(call):
            asset = emulator.store.get(AssetKey(call.resource_type, delivery_type, public_id))
            if asset is None:
                continue
            before = dict(asset.context)
            asset.context = {**before, **additions} if command == "add" else {}
            updated.append(public_id)
            if asset.context != before:
                changes.append((asset, before, dict(asset.context)))
        emulator.persist(*(changed for changed, _, _ in changes))
    if changes:
        call.notify(context_changed_payload(changes, emulator.config.api_key, emulator.clock()))
    return {"public_ids": updated}


def upload_routes() -> list[Route]:
    prefix = "/v1_1/{cloud}/{resource_type}"
    return [
        Route(f"{prefix}/upload", _endpoint("upload", _upload), methods=["POST"]),
        Route(f"{prefix}/destroy", _endpoint("destroy", _destroy), methods=["POST"]),
        Route(f"{prefix}/tags", _endpoint("tags", _tags), methods=["POST"]),
        Route(f"{prefix}/context", _endpoint("context", _context), methods=["POST"]),
    ]
