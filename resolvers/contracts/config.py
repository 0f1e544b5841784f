"""Channel contracts (``gateway/contracts.toml``): per channel, the operations its front end
runs and what their results must hold.

Read once (the CLI's ``simulate``, the publish gate) and checked against ``channels.toml`` (the
channel, its slots and locales) and the persisted operation manifest (the operation by name,
the variable each run sets), so a typo stops start-up with the file, the line and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from resolvers.channels import Channels
from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text
from resolvers.contracts.paths import JsonPath, PathError

ForEach = Literal["once", "category", "sku", "page"]
# The variable each kind of run sets (the operation must declare it).
RUN_VARIABLE: dict[str, str | None] = {
    "once": None,
    "category": "category",
    "sku": "sku",
    "page": "after",
}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")


class ContractsConfigError(ConfigFileError):
    """The contracts file is invalid; the message names the file, line, key and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _path(value: str) -> str:
    try:
        JsonPath.parse(value)
    except PathError as exc:
        raise ValueError(str(exc)) from None
    return value


class ImageExpectation(_Strict):
    """URLs at ``path`` (under each product) must deliver in the channel slot's format and
    size; ``sample`` of them per operation are fetched, or every one (``"all"``)."""

    path: str
    slot: str
    sample: Annotated[int, Field(ge=1, le=1_000)] | Literal["all"] = 3
    """A sample finds what is wrong with many pictures (a slot's transformation); ``"all"``
    finds the one picture the DAM no longer delivers, at one fetch per URL."""

    @field_validator("path")
    @classmethod
    def _valid_path(cls, value: str) -> str:
        return _path(value)


class OperationContract(_Strict):
    operation: str
    """A persisted operation of the manifest, by name."""
    description: str = ""
    for_each: ForEach = "once"
    """once; a run per category (``$category``), per SKU (``$sku``), or feed pages (``$after``)."""
    variables: dict[str, Any] = {}
    """Fixed variables; ``$channel`` is the channel's name when the operation declares it."""
    locales: list[str] = []
    """Run once per locale (``$locale``); none: as ``variables`` say."""
    pages: Annotated[int, Field(ge=1, le=10_000)] = 1
    """For ``page``: how many pages at most (following ``page_info.endCursor``)."""
    page_info: str | None = None
    products: str
    """Where each product is in ``data``: ``products.edges[*].node``, ``product``."""
    gate: bool = False
    """Run for a product's would-be published revision when it is approved or published
    (``for_each = "sku"`` only)."""
    non_null: list[str] = []
    non_empty: list[str] = []
    max_bytes: Annotated[int, Field(ge=1)] | None = None
    """The response body as sent with ``Accept-Encoding: gzip``."""
    max_server_ms: Annotated[float, Field(gt=0)] | None = None
    no_fallback: list[str] = []
    """Locales (of ``locales``) in which no value of a product may come from another locale."""
    images: list[ImageExpectation] = []

    @field_validator("products", "page_info")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return None if value is None else _path(value)

    @field_validator("non_null", "non_empty")
    @classmethod
    def _path_list(cls, values: list[str]) -> list[str]:
        return [_path(v) for v in values]


class ChannelContract(_Strict):
    description: str = ""
    operations: dict[str, OperationContract]


class ContractsFile(_Strict):
    channels: dict[str, ChannelContract] = {}


@dataclass(frozen=True, slots=True)
class Operation:
    """One contract operation, resolved: its name in reports, its channel and its text."""

    channel: str
    name: str
    contract: OperationContract
    body: str
    declared: frozenset[str]
    """The variables the operation's text declares."""

    @property
    def where(self) -> str:
        return f"{self.channel}/{self.name}"


@dataclass(frozen=True, slots=True)
class Contracts:
    source: str
    operations: tuple[Operation, ...]

    def channels(self) -> list[str]:
        return list(dict.fromkeys(o.channel for o in self.operations))

    def of(self, channel: str) -> list[Operation]:
        return [o for o in self.operations if o.channel == channel]

    def gated(self, channel: str) -> list[Operation]:
        return [o for o in self.of(channel) if o.contract.gate]


_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*:")


def declared_variables(body: str) -> frozenset[str]:
    """The ``$name:`` declarations of an operation's text (its variable definitions)."""
    head = body.split("{", 1)[0]
    return frozenset(_VARIABLE.findall(head))


def load_contracts(path: Path, channels: Channels, manifest: Mapping[str, str]) -> Contracts:
    """Read and check ``path``; ``manifest`` maps persisted operation names to their text."""
    text = read_config_text(path, "channel contracts", ContractsConfigError)
    return parse_contracts(text, str(path), channels, manifest)


def parse_contracts(
    text: str, source: str, channels: Channels, manifest: Mapping[str, str]
) -> Contracts:
    parsed = parse_config(text, source, ContractsFile, ContractsConfigError)
    operations: list[Operation] = []

    def fail(loc: list[str], reason: str) -> ContractsConfigError:
        return ContractsConfigError(f"{source}:{line_of(text, loc)}: {'.'.join(loc)}: {reason}")

    for channel, contract in parsed.channels.items():
        profile = channels.profiles.get(channel)
        if profile is None:
            raise fail(
                ["channels", channel],
                f"no such channel in {channels.source}; channels: {', '.join(channels.names())}",
            )
        for name, op in contract.operations.items():
            loc = ["channels", channel, "operations", name]
            if not _NAME.match(name):
                raise fail(loc, "names are lowercase letters, digits, - or _")
            body = manifest.get(op.operation)
            if body is None:
                raise fail(
                    [*loc, "operation"],
                    f"no operation {op.operation!r} in the manifest; operations: "
                    f"{', '.join(sorted(manifest))}",
                )
            declared = declared_variables(body)
            wanted = RUN_VARIABLE[op.for_each]
            if wanted is not None and wanted not in declared:
                raise fail(
                    [*loc, "for_each"],
                    f"{op.operation} declares no ${wanted}, which for_each = {op.for_each!r} sets",
                )
            if op.locales and "locale" not in declared:
                raise fail([*loc, "locales"], f"{op.operation} declares no $locale")
            for key in op.variables:
                if key not in declared:
                    raise fail([*loc, "variables"], f"{op.operation} declares no ${key}")
            for tag in op.locales:
                if tag not in profile.locales:
                    raise fail(
                        [*loc, "locales"],
                        f"{tag!r} is not a locale of channel {channel} "
                        f"({', '.join(profile.locales)})",
                    )
            for tag in op.no_fallback:
                if tag not in op.locales:
                    raise fail([*loc, "no_fallback"], f"{tag!r} is not one of its locales")
            if op.for_each == "page" and op.page_info is None:
                raise fail([*loc, "page_info"], "for_each = 'page' needs the path of pageInfo")
            if op.gate and op.for_each != "sku":
                raise fail([*loc, "gate"], "only operations run per SKU run at publication")
            for image in op.images:
                if profile.slot(image.slot) is None:
                    raise fail(
                        [*loc, "images"],
                        f"channel {channel} has no slot {image.slot!r}; slots: "
                        f"{', '.join(profile.slots)}",
                    )
            operations.append(Operation(channel, name, op, body, declared))
    return Contracts(source, tuple(operations))
