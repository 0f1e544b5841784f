"""Optional on-disk copy of the asset store (``EmulatorConfig.storage_dir``).

Each asset is two files under ``<storage_dir>/assets/``, named by a hash of its key
(resource type, delivery type, public ID): ``<key>.json`` with everything ``Asset`` holds
except the bytes, and ``<key>.<version_id>.bin`` with the bytes. Every file is written to a
temporary name and moved into place with ``os.replace``, the bytes before the metadata that
points at them, so a crash leaves either the old asset or the new one, never a mix: at worst
an unreferenced ``.bin`` or ``.tmp`` file, removed at the next load. Deleting removes the
metadata first. Files that cannot be read or make no sense are skipped with a warning.

Loading reads the metadata only: an asset's bytes are read (and checked against its MD5) when
first used, a delivery or a download. Start-up over the demo's 1,771 pictures read and hashed
180 MB it mostly never used.

One emulator per directory: two running on the same one would overwrite each other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import fields as dataclass_fields
from datetime import datetime
from pathlib import Path
from typing import Any

from cloudinary_emulator.store import Asset, AssetKey

log = logging.getLogger("cloudinary_emulator.persistence")

SCHEMA_VERSION = 1
_TEMP_SUFFIX = ".tmp"


class CorruptAssetFileError(ValueError):
    """A metadata file that is not a stored asset of this schema."""


def key_name(key: AssetKey) -> str:
    """A file-name-safe, case-insensitive-filesystem-safe name for an asset key."""
    text = json.dumps([key.resource_type, key.type, key.public_id])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AssetStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / "assets"
        self.directory.mkdir(parents=True, exist_ok=True)
        # Key name → the data file its metadata points at, so writes need no directory scan.
        self._data_files: dict[str, str] = {}

    # ------------------------------------------------------------------ writing

    def write(self, asset: Asset) -> None:
        """Store ``asset``; the bytes are written only when this version has none yet."""
        name = key_name(asset.key)
        data_name = f"{name}.{asset.version_id}.bin"
        previous = self._data_files.get(name)
        if previous != data_name:
            _atomic_write(self.directory / data_name, asset.data)
        _atomic_write(self.directory / f"{name}.json", _encode(asset, data_name))
        self._data_files[name] = data_name
        if previous is not None and previous != data_name:
            # The bytes of the version this one replaced.
            (self.directory / previous).unlink(missing_ok=True)

    def delete(self, key: AssetKey) -> None:
        name = key_name(key)
        (self.directory / f"{name}.json").unlink(missing_ok=True)
        data_name = self._data_files.pop(name, None)
        if data_name is not None:
            (self.directory / data_name).unlink(missing_ok=True)

    def clear(self) -> None:
        self._data_files.clear()
        for path in self.directory.iterdir():
            if path.is_file() and path.suffix in (".json", ".bin", _TEMP_SUFFIX):
                path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ loading

    def load(self) -> list[Asset]:
        """Every readable asset; unreadable ones are logged and left where they are."""
        assets: list[Asset] = []
        referenced: set[str] = set()
        unreadable: set[str] = set()
        for path in sorted(self.directory.glob("*.json")):
            try:
                asset, data_name = self._read(path)
            except Exception as error:
                # Whatever is wrong with one file, the others still load.
                log.warning("Skipping unreadable emulator asset file %s: %s", path, error)
                unreadable.add(path.stem)
                continue
            assets.append(asset)
            referenced.add(data_name)
            self._data_files[path.stem] = data_name
        self._remove_leftovers(referenced, unreadable)
        return assets

    def _read(self, path: Path) -> tuple[Asset, str]:
        document = json.loads(path.read_bytes())
        asset, data_name = _decode(document, self.directory)
        if key_name(asset.key) != path.stem:
            raise CorruptAssetFileError("the file name does not match the asset it holds")
        return asset, data_name

    def _remove_leftovers(self, referenced: set[str], unreadable: set[str]) -> None:
        """Bytes no metadata points at, and temporary files: what an interrupted write leaves.

        Bytes next to an unreadable metadata file stay, for whoever looks into it.
        """
        for path in self.directory.iterdir():
            orphan = (
                path.suffix == ".bin"
                and path.name not in referenced
                and path.name.split(".", 1)[0] not in unreadable
            )
            if orphan or path.name.endswith(_TEMP_SUFFIX):
                try:
                    path.unlink(missing_ok=True)
                except OSError as error:
                    log.warning("Could not remove leftover emulator file %s: %s", path, error)


def _atomic_write(path: Path, content: bytes) -> None:
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


# --------------------------------------------------------------------------- encoding


def _encode(asset: Asset, data_name: str) -> bytes:
    document = {
        "schema": SCHEMA_VERSION,
        "data_file": data_name,
        "size": asset.size,
        "etag": asset.etag,
        "resource_type": asset.resource_type,
        "type": asset.type,
        "public_id": asset.public_id,
        "format": asset.format,
        "width": asset.width,
        "height": asset.height,
        "version": asset.version,
        "created_at": asset.created_at.isoformat(),
        "sequence": asset.sequence,
        "asset_id": asset.asset_id,
        "version_id": asset.version_id,
        "tags": asset.tags,
        "context": asset.context,
        "metadata": asset.metadata,
        "phash": asset.phash,
        "duration": asset.duration,
        "original_filename": asset.original_filename,
        "display_name": asset.display_name,
        "asset_folder": asset.asset_folder,
        "updated_at": asset.last_updated.isoformat(),
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


_DATA_SLOT = Asset.__dict__["data"]


class _StoredAsset(Asset):
    """An asset loaded from storage whose bytes are read on first use.

    Until then its size and etag are the metadata's, checked against the file's size at load
    and against its bytes when they are read.
    """

    __slots__ = ("_data_path", "_stored_etag", "_stored_size")
    _data_path: Path | None
    _stored_etag: str
    _stored_size: int

    def __eq__(self, other: object) -> bool:
        # An asset is its fields' values, loaded from storage or not.
        if not isinstance(other, Asset):
            return NotImplemented
        compared = [f.name for f in dataclass_fields(Asset) if f.compare]
        return all(getattr(self, name) == getattr(other, name) for name in compared)

    @property
    def data(self) -> bytes:
        path = self._data_path
        if path is not None:
            content = path.read_bytes()
            if hashlib.md5(content, usedforsecurity=False).hexdigest() != self._stored_etag:
                raise CorruptAssetFileError(f"{path} changed since the emulator loaded it")
            _DATA_SLOT.__set__(self, content)
            self._data_path = None
        value: bytes = _DATA_SLOT.__get__(self, Asset)
        return value

    @data.setter
    def data(self, value: bytes) -> None:
        _DATA_SLOT.__set__(self, value)
        self._data_path = None

    @property
    def size(self) -> int:
        return self._stored_size if self._data_path is not None else len(self.data)

    @property
    def etag(self) -> str:
        if self._data_path is not None:
            return self._stored_etag
        return hashlib.md5(self.data, usedforsecurity=False).hexdigest()


def _decode(document: Any, directory: Path) -> tuple[Asset, str]:
    if not isinstance(document, dict):
        raise CorruptAssetFileError("not a JSON object")
    fields = _Fields(document)
    if fields.integer("schema") != SCHEMA_VERSION:
        raise CorruptAssetFileError(f"unknown schema {document.get('schema')!r}")
    data_name = fields.text("data_file")
    if "/" in data_name or "\\" in data_name or not data_name.endswith(".bin"):
        raise CorruptAssetFileError(f"bad data_file {data_name!r}")
    data_path = directory / data_name
    size, etag = fields.integer("size"), fields.text("etag")
    # A missing or truncated file is found now; other bytes of the same size when read.
    if data_path.stat().st_size != size:
        raise CorruptAssetFileError(f"{data_name} does not hold the bytes the metadata describes")
    created_at = datetime.fromisoformat(fields.text("created_at"))
    if created_at.tzinfo is None:
        raise CorruptAssetFileError("created_at has no time zone")
    asset = _StoredAsset(
        resource_type=fields.text("resource_type"),
        type=fields.text("type"),
        public_id=fields.text("public_id"),
        data=b"",
        format=fields.optional_text("format"),
        width=fields.optional_integer("width"),
        height=fields.optional_integer("height"),
        version=fields.integer("version"),
        created_at=created_at,
        sequence=fields.integer("sequence"),
        asset_id=fields.text("asset_id"),
        version_id=fields.text("version_id"),
        tags=fields.text_list("tags"),
        context=fields.text_map("context"),
        metadata=fields.mapping("metadata"),
        phash=fields.optional_text("phash"),
        duration=fields.optional_number("duration"),
        original_filename=fields.text("original_filename"),
        display_name=fields.text("display_name"),
        asset_folder=fields.text("asset_folder"),
        # Files written before updates were timed: updated when created.
        updated_at=(
            datetime.fromisoformat(str(document["updated_at"]))
            if isinstance(document.get("updated_at"), str)
            else created_at
        ),
    )
    asset._data_path, asset._stored_size, asset._stored_etag = data_path, size, etag
    return asset, data_name


class _Fields:
    """Typed access to a decoded metadata document; anything amiss is a corrupt file."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    def _get(self, name: str) -> Any:
        if name not in self._document:
            raise CorruptAssetFileError(f"missing field {name}")
        return self._document[name]

    def _fail(self, name: str, expected: str) -> CorruptAssetFileError:
        return CorruptAssetFileError(f"field {name} is not {expected}")

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise self._fail(name, "a string")
        return value

    def optional_text(self, name: str) -> str | None:
        return None if self._get(name) is None else self.text(name)

    def integer(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(name, "an integer")
        return value

    def optional_integer(self, name: str) -> int | None:
        return None if self._get(name) is None else self.integer(name)

    def optional_number(self, name: str) -> float | None:
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(name, "a number")
        return float(value)

    def text_list(self, name: str) -> list[str]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(name, "a list of strings")
        return list(value)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self._get(name)
        if not isinstance(value, dict):
            raise self._fail(name, "an object")
        return dict(value)

    def text_map(self, name: str) -> dict[str, str]:
        value = self.mapping(name)
        if not all(isinstance(item, str) for item in value.values()):
            raise self._fail(name, "an object of strings")
        return value
