"""Judging one run of a contract operation: pure functions over its response.

A run is an operation with its variables; its response is what the front end would get (the
parsed body, the bytes on the wire, the time the server took). Each expectation that fails
becomes a ``Violation`` naming the channel, the operation, the variables, the path in the
response and the product's SKU, so a report line says exactly what a front end would miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resolvers.channels import SlotProfile
from resolvers.contracts.config import ImageExpectation, Operation
from resolvers.contracts.paths import JsonPath, shown

# Crops that deliver exactly the slot's box; the others deliver within it.
EXACT_CROPS = frozenset({"fill", "pad", "thumb", "crop"})
MIME = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
}


@dataclass(frozen=True, slots=True)
class Violation:
    channel: str
    operation: str
    """The contract operation's name (``channels.<c>.operations.<name>``)."""
    check: str
    """error, non_null, non_empty, max_bytes, max_server_ms, no_fallback or image."""
    message: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""
    sku: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "operation": self.operation,
            "check": self.check,
            "sku": self.sku,
            "path": self.path,
            "variables": dict(self.variables),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Mapping[str, Any]
    """The parsed JSON body: data, errors, extensions."""
    wire_bytes: int
    server_ms: float


@dataclass(frozen=True, slots=True)
class ImageUse:
    """An image URL a product got, to fetch and judge against its slot."""

    url: str
    expectation: ImageExpectation
    path: str
    sku: str | None


@dataclass(frozen=True, slots=True)
class Delivered:
    """What fetching an image URL gave: the status, the type and the decoded size."""

    status: int
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None


@dataclass(slots=True)
class Judged:
    violations: list[Violation]
    products: list[str | None]
    """The SKU of every product the response held (None when it had none)."""
    images: list[ImageUse]


def judge(
    operation: Operation, variables: Mapping[str, Any], response: Response, locale: str | None
) -> Judged:
    """Every violated expectation of one response but the images' (fetched afterwards)."""
    contract = operation.contract

    # A run of one product's page: what is wrong with the whole response is that product's.
    run_sku = variables.get("sku") if operation.contract.for_each == "sku" else None

    def violation(check: str, message: str, path: str = "", sku: str | None = run_sku) -> Violation:
        return Violation(operation.channel, operation.name, check, message, variables, path, sku)

    out = Judged([], [], [])
    errors = response.body.get("errors") or []
    if response.status != 200 or errors:
        first = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
        out.violations.append(violation("error", f"HTTP {response.status}: {first or 'no data'}"))
    if contract.max_bytes is not None and response.wire_bytes > contract.max_bytes:
        out.violations.append(
            violation(
                "max_bytes",
                f"{response.wire_bytes:,} bytes (gzip) > max_bytes {contract.max_bytes:,}",
            )
        )
    if contract.max_server_ms is not None and response.server_ms > contract.max_server_ms:
        out.violations.append(
            violation(
                "max_server_ms",
                f"{response.server_ms:.0f} ms > max_server_ms {contract.max_server_ms:g}",
            )
        )
    data = response.body.get("data")
    if data is None:
        return out
    fallbacks = _fallbacks(response) if locale in contract.no_fallback else []
    for at, product in JsonPath.parse(contract.products).matches(data):
        if product is None:
            continue  # a product page of an unknown SKU: non_null of the root is the check
        sku = product.get("sku") if isinstance(product, dict) else None
        out.products.append(sku)
        for text in contract.non_null:
            for where, value in JsonPath.parse(text).matches(product, at):
                if value is None:
                    out.violations.append(violation("non_null", "is null", shown(where), sku))
        for text in contract.non_empty:
            for where, value in JsonPath.parse(text).matches(product, at):
                if value is None or (isinstance(value, str | list | dict) and not value):
                    shown_value = "null" if value is None else repr(value)
                    out.violations.append(
                        violation("non_empty", f"is {shown_value}", shown(where), sku)
                    )
        for fallback in fallbacks:
            where = tuple(fallback.get("path") or ())
            if where[: len(at)] == at:
                out.violations.append(
                    violation(
                        "no_fallback",
                        f"{fallback.get('requested')} fell back to {fallback.get('used')}",
                        shown(where),
                        sku,
                    )
                )
        for image in contract.images:
            for where, value in JsonPath.parse(image.path).matches(product, at):
                if isinstance(value, str) and value:
                    out.images.append(ImageUse(value, image, shown(where), sku))
    return out


def _fallbacks(response: Response) -> list[Mapping[str, Any]]:
    extensions = response.body.get("extensions") or {}
    found = extensions.get("localeFallbacks") or []
    return [f for f in found if isinstance(f, Mapping)]


def judge_image(
    operation: Operation,
    variables: Mapping[str, Any],
    use: ImageUse,
    slot: SlotProfile,
    delivered: Delivered,
) -> Violation | None:
    """Whether a fetched image is what the slot promises: delivered, its format, its size."""
    problem = image_problem(slot, delivered)
    if problem is None:
        return None
    return Violation(
        operation.channel,
        operation.name,
        "image",
        f"slot {use.expectation.slot}: {problem} ({use.url})",
        variables,
        use.path,
        use.sku,
    )


def image_problem(slot: SlotProfile, delivered: Delivered) -> str | None:
    if delivered.error is not None:
        return f"not delivered: {delivered.error}"
    if delivered.status != 200:
        return f"not delivered: HTTP {delivered.status}"
    content_type = (delivered.content_type or "").split(";")[0].strip().lower()
    expected = MIME.get(slot.format)
    if expected is not None and content_type != expected:
        return f"delivered as {content_type or 'no type'}, the slot is {slot.format}"
    if expected is None and not content_type.startswith("image/"):
        return f"delivered as {content_type or 'no type'}, not an image"
    if delivered.width is None or delivered.height is None:
        return "not a decodable image"
    size = f"{delivered.width}x{delivered.height}"
    if slot.height is not None and slot.crop in EXACT_CROPS:
        if (delivered.width, delivered.height) != (slot.width, slot.height):
            return f"delivered {size}, the slot is {slot.width}x{slot.height} ({slot.crop})"
    elif delivered.width > slot.width or (
        slot.height is not None and delivered.height > slot.height
    ):
        box = f"{slot.width}x{slot.height or '?'}"
        return f"delivered {size}, larger than the slot's {box} ({slot.crop})"
    return None
