"""Delivery URLs: ``/{cloud}/{resource_type}/{type}/[s--SIG--/][transformations/][vN/]{id}.{ext}``.

Images are rendered with Pillow to exactly the size and format asked for, overlays (``l_``)
taken from the stored images they name. Videos: image extensions get a generated poster
frame (transformed like an image), ``.m3u8`` a minimal single-segment HLS playlist, other
extensions the stored bytes untranscoded (video transformations are validated, then
ignored). Raw assets are served as stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cloudinary_emulator.config import DELIVERY_TYPES, RESOURCE_TYPES
from cloudinary_emulator.emulator import Emulator
from cloudinary_emulator.errors import ApiError, DeliveryError
from cloudinary_emulator.guards import apply_faults, base_url, emulator_of
from cloudinary_emulator.media import (
    VIDEO_FORMATS,
    content_type,
    normalise_format,
    open_image,
    poster_frame,
)
from cloudinary_emulator.rendering import Overlays, choose_format, encode, render
from cloudinary_emulator.signing import smart_escape, url_signature, verify_url_signature
from cloudinary_emulator.store import Asset, AssetKey
from cloudinary_emulator.transformations import (
    OUTPUT_FORMATS,
    LayerSource,
    Transformation,
    looks_like_component,
    parse_transformation,
)

_CACHE_HEADERS = {
    "Cache-Control": "public, max-age=2592000",
    "Access-Control-Allow-Origin": "*",
}
_POSTER_FORMATS = OUTPUT_FORMATS | {"jpeg"}


@dataclass(frozen=True, slots=True)
class DeliveryPath:
    signature: str | None
    components: list[str]
    version: int | None
    # Still percent-encoded, exactly as signed: the SDK signs the escaped form.
    source: str

    @property
    def signed_text(self) -> str:
        return "/".join([*self.components, self.source])


def parse_delivery_path(rest: str) -> DeliveryPath:
    segments = rest.split("/")
    signature = None
    first = segments[0]
    if first.startswith("s--") and first.endswith("--") and len(segments) > 1:
        signature = first[3:-2]
        segments = segments[1:]
    components: list[str] = []
    while len(segments) > 1 and looks_like_component(segments[0]):
        components.append(segments.pop(0))
    version = None
    if len(segments) > 1 and segments[0][:1] == "v" and segments[0][1:].isdigit():
        version = int(segments.pop(0)[1:])
    source = "/".join(segments)
    if not source:
        raise DeliveryError(404, "Missing public ID")
    return DeliveryPath(signature, components, version, source)


def _raw_rest(request: Request, prefix: str) -> str:
    """The part of the path after ``prefix``, before percent-decoding."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(request.url.path)
    path = path.split("?", 1)[0]
    index = path.find(prefix)
    if index < 0:
        raise DeliveryError(404, "Not a delivery URL")
    return path[index + len(prefix) :]


def _check_signature(emulator: Emulator, delivery_type: str, path: DeliveryPath) -> None:
    config = emulator.config
    if path.signature is None:
        if delivery_type in config.signed_delivery_types:
            raise DeliveryError(401, f"Signature required for {delivery_type} delivery URLs")
        return
    if not verify_url_signature(
        path.signed_text, path.signature, config.api_secret, config.signature_algorithm
    ):
        raise DeliveryError(401, "Invalid signature")


def _locate(
    emulator: Emulator, resource_type: str, delivery_type: str, source: str
) -> tuple[Asset, str | None]:
    name = unquote(source)
    with emulator.lock:
        if resource_type != "raw":
            stem, dot, extension = name.rpartition(".")
            if dot and "/" not in extension:
                asset = emulator.store.get(AssetKey(resource_type, delivery_type, stem))
                if asset is not None:
                    return asset, normalise_format(extension)
        asset = emulator.store.get(AssetKey(resource_type, delivery_type, name))
    if asset is None:
        raise DeliveryError(404, f"Resource not found - {name}")
    return asset, None


def _overlays(emulator: Emulator, transformation: Transformation, path: DeliveryPath) -> Overlays:
    """The bytes of every image an ``l_`` names; an unknown one fails the URL with 400."""
    found: dict[LayerSource, bytes] = {}
    for source in transformation.layer_sources():
        if source.type != "upload" and path.signature is None:
            # Cloudinary serves private and authenticated layers only in signed URLs.
            raise DeliveryError(401, f"Signature required for {source.type} layer l_{source.text}")
        with emulator.lock:
            asset = emulator.store.get(AssetKey("image", source.type, source.public_id))
            stem, dot, _ = source.public_id.rpartition(".")
            if asset is None and dot:
                asset = emulator.store.get(AssetKey("image", source.type, stem))
        if asset is None:
            raise DeliveryError(400, f"Overlay image not found - {source.text}")
        found[source] = asset.data
    return found


def _render_image(
    data: bytes,
    transformation: Transformation,
    overlays: Overlays,
    requested: str | None,
    accept: str,
) -> tuple[bytes, str]:
    image, source_format = open_image(data)
    rendered = render(image, transformation, overlays)
    fmt = choose_format(transformation, requested, source_format, accept, rendered.mode == "RGBA")
    return encode(rendered, fmt, transformation.quality, transformation.background), fmt


def _render_poster(
    asset: Asset,
    transformation: Transformation,
    overlays: Overlays,
    requested: str,
    accept: str,
) -> tuple[bytes, str]:
    frame = poster_frame(asset.width or 1280, asset.height or 720, asset.public_id)
    rendered = render(frame, transformation, overlays)
    fmt = choose_format(transformation, requested, "jpg", accept, rendered.mode == "RGBA")
    return encode(rendered, fmt, transformation.quality, transformation.background), fmt


def _hls_playlist(emulator: Emulator, asset: Asset, root: str) -> str:
    filename = f"{asset.public_id}.{asset.format or 'mp4'}"
    segment = f"v{asset.version}/{filename}"
    if asset.type in emulator.config.signed_delivery_types:
        signature = url_signature(
            smart_escape(filename), emulator.config.api_secret, emulator.config.signature_algorithm
        )
        segment = f"s--{signature}--/{segment}"
    duration = asset.duration or emulator.config.default_video_duration_s
    return "\n".join(
        [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{math.ceil(duration)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXTINF:{duration:.3f},",
            f"{root}/{emulator.config.cloud_name}/video/{asset.type}/{smart_escape(segment)}",
            "#EXT-X-ENDLIST",
            "",
        ]
    )


async def _serve(request: Request, emulator: Emulator) -> Response:
    cloud = request.path_params["cloud"]
    resource_type = request.path_params["resource_type"]
    delivery_type = request.path_params["type"]
    if cloud != emulator.config.cloud_name:
        raise DeliveryError(404, f"Unknown cloud name {cloud}")
    if resource_type not in RESOURCE_TYPES or delivery_type not in DELIVERY_TYPES:
        raise DeliveryError(404, f"Unsupported delivery path /{resource_type}/{delivery_type}")
    path = parse_delivery_path(_raw_rest(request, f"/{cloud}/{resource_type}/{delivery_type}/"))
    _check_signature(emulator, delivery_type, path)
    asset, extension = _locate(emulator, resource_type, delivery_type, path.source)
    transformation = parse_transformation(path.components, emulator.named_transformations)
    overlays = _overlays(emulator, transformation, path) if resource_type != "raw" else {}
    accept = request.headers.get("accept", "")
    headers = {**_CACHE_HEADERS, "ETag": f'"{asset.etag}"'}
    if transformation.fetch_format == "auto":
        headers["Vary"] = "Accept"

    if resource_type == "raw":
        return Response(asset.data, media_type=content_type(_extension_of(asset)), headers=headers)

    if resource_type == "video":
        if extension == "m3u8":
            playlist = _hls_playlist(emulator, asset, base_url(request))
            return Response(playlist, media_type=content_type("m3u8"), headers=headers)
        if extension == "mpd":
            raise DeliveryError(400, "DASH (.mpd) manifests are not supported by the emulator")
        if transformation.streaming_profile:
            raise DeliveryError(400, "Streaming profiles need the .m3u8 extension")
        if extension in _POSTER_FORMATS:
            body, fmt = await run_in_threadpool(
                _render_poster, asset, transformation, overlays, extension, accept
            )
            return Response(body, media_type=content_type(fmt), headers=headers)
        if extension is not None and extension not in VIDEO_FORMATS:
            raise DeliveryError(400, f"Unsupported video format .{extension}")
        return Response(asset.data, media_type=content_type(asset.format), headers=headers)

    if extension is not None and extension not in OUTPUT_FORMATS:
        raise DeliveryError(400, f"Image format .{extension} is not supported by the emulator")
    if transformation.is_empty and extension in (None, asset.format):
        return Response(asset.data, media_type=content_type(asset.format), headers=headers)
    body, fmt = await run_in_threadpool(
        _render_image, asset.data, transformation, overlays, extension, accept
    )
    return Response(body, media_type=content_type(fmt), headers=headers)


def _extension_of(asset: Asset) -> str | None:
    _, dot, extension = asset.public_id.rpartition(".")
    return extension.lower() if dot else asset.format


async def deliver(request: Request) -> Response:
    emulator = emulator_of(request)
    emulator.stats.record_delivery()
    try:
        try:
            await apply_faults(emulator, "delivery")
        except ApiError as fault:
            raise DeliveryError(fault.status, fault.message) from None
        return await _serve(request, emulator)
    except DeliveryError as error:
        return error.to_response()


def delivery_routes() -> list[Route]:
    return [
        Route(
            "/{cloud}/{resource_type}/{type}/{rest:path}",
            deliver,
            methods=["GET"],
        )
    ]
