"""The BSON a request's documents were decoded from, kept beside them.

A digest of those bytes names a document's content for the cost of hashing them, where
encoding the decoded document again costs half as much as scoring it
(``resolvers.readiness.memo``). Reads that record go through ``find_documents`` or
``decode_recorded``: the same ``find`` command, its batches decoded as the driver would.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import bson
from bson.codec_options import CodecOptions
from pymongo.asynchronous.cursor import AsyncCursor

from resolvers.db import Collection, Document

_LENGTH = struct.Struct("<i")


# A recorded document: itself, its batch, its offset and length there, the codec options.
_Recorded = tuple[Document, bytes, int, int, CodecOptions[Any]]


class RawDocuments:
    """Per request: each recorded document's BSON, by identity (never share between requests).

    Batches are kept as they came; the documents' offsets in them are worked out only when a
    document's bytes are first asked for, so a request that never asks pays nothing per
    document."""

    __slots__ = ("_batches", "_by_id", "recording")

    def __init__(self, *, recording: bool = False) -> None:
        # Off: reads through find_documents and fetch_page record nothing (raw batches cost
        # the driver a RawBSONDocument per document); a request turns it on when it will ask.
        self.recording = recording
        self._batches: list[tuple[bytes, list[Document], CodecOptions[Any]]] = []
        # id -> (the document, its batch, offset, length, codec options): holding the document
        # keeps its id from being reused while the entry lives.
        self._by_id: dict[int, _Recorded] = {}

    def __len__(self) -> int:
        self._index()
        return len(self._by_id)

    def record(self, batch: bytes, documents: list[Document], options: CodecOptions[Any]) -> None:
        """``documents``: what ``bson.decode_all(batch, options)`` answered, in its order."""
        self._batches.append((batch, documents, options))

    def of(self, document: Document) -> memoryview | None:
        """The bytes ``document`` was decoded from; None when it was not recorded (built,
        upcast, or read by a query that does not record)."""
        entry = self._entry(document)
        if entry is None:
            return None
        _, batch, offset, length, _ = entry
        return memoryview(batch)[offset : offset + length]

    def unchanged(self, document: Document) -> bool:
        """Whether ``document`` still holds what its bytes say (nothing changed it in place
        since it was decoded); False when it was not recorded."""
        entry = self._entry(document)
        if entry is None:
            return False
        _, batch, offset, length, options = entry
        decoded: Document = bson.decode(batch[offset : offset + length], options)
        return decoded == document

    def _entry(self, document: Document) -> _Recorded | None:
        if self._batches:
            self._index()
        entry = self._by_id.get(id(document))
        return entry if entry is not None and entry[0] is document else None

    def clear(self) -> None:
        self._batches.clear()
        self._by_id.clear()

    def _index(self) -> None:
        for batch, documents, options in self._batches:
            offset = 0
            for document in documents:
                (length,) = _LENGTH.unpack_from(batch, offset)
                self._by_id[id(document)] = (document, batch, offset, length, options)
                offset += length
        self._batches.clear()


async def decode_recorded(
    cursor: AsyncCursor[Any], options: CodecOptions[Any], raws: RawDocuments
) -> list[Document]:
    """The documents of a ``find_raw_batches`` cursor, as ``to_list`` on ``find`` would give
    them (``options``: the collection's codec options), each recorded in ``raws``."""
    documents: list[Document] = []
    for batch in await cursor.to_list():
        decoded = bson.decode_all(batch, options)
        raws.record(batch, decoded, options)
        documents.extend(decoded)
    return documents


async def find_documents(
    collection: Collection,
    query: Mapping[str, Any],
    projection: Mapping[str, Any] | None,
    raws: RawDocuments | None,
    *,
    batch_size: int,
) -> list[Document]:
    """``collection.find(query, projection).batch_size(batch_size).to_list()``, recording
    every document's bytes in ``raws`` when given and recording. ``to_list``, not ``async
    for``: iterating costs two coroutine steps per document."""
    if raws is None or not raws.recording:
        return await collection.find(query, projection).batch_size(batch_size).to_list()
    cursor = collection.find_raw_batches(query, projection).batch_size(batch_size)
    return await decode_recorded(cursor, collection.codec_options, raws)
