"""Live readiness without running every rule on every read.

``evaluate`` is a pure function of the product, the assets its media references name, its
categories, their required attributes, the channel's rules and ``now``. A listing that shows
``readiness { score }`` ran every rule of the channel for every product on every request: a
quarter of a 48-product page's CPU (issue 17).

``ReadinessMemo`` keeps results per process, keyed by a digest of those documents' BSON as
MongoDB sent it (``resolvers.raw_documents``: hashing it costs a tenth of scoring, encoding the
decoded documents again half), the channel and the locale, and checked against the channel's
rules in force. Documents this request did not read as BSON (built, upcast) are scored live.

``now`` enters through the assets' promotional windows alone (``delivery_problem``): a result
is kept with the interval between the windows' boundaries around the ``now`` it was computed
at, and is computed again outside it. A changed document changes the digest, so nothing has to
be invalidated; old entries age out of a bounded LRU. A result is kept only if every document it
was computed from still decodes from its bytes (checked once, when it is computed), so code that
changes a document in place after reading it cannot leave a wrong result under those bytes.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from resolvers.channels import Channels
from resolvers.db import Document, as_utc
from resolvers.locales import LocaleResolver
from resolvers.media.selection import reference_key
from resolvers.raw_documents import RawDocuments
from resolvers.readiness.rules import Readiness, evaluate

log = logging.getLogger(__name__)

DEFAULT_ENTRIES = 10_000
_LENGTH = struct.Struct("<i")
_ABSENT = _LENGTH.pack(-1)


class ReadinessMemo:
    """``evaluate`` with results shared between requests (see the module docstring)."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[bytes, str, str | None], _Entry] = OrderedDict()
        # The configuration the entries were computed with; other objects clear them.
        self._channels: Channels | None = None
        self._locales: LocaleResolver | None = None
        self.hits = 0
        self.misses = 0
        self.refused = 0

    def __len__(self) -> int:
        return len(self._entries)

    def evaluate(
        self,
        product: Document,
        *,
        assets: dict[tuple[str, str], Document | None],
        categories: list[Document],
        attributes: dict[str, Document | None],
        channel: str,
        channels: Channels,
        locales: LocaleResolver,
        locale: str | None,
        now: datetime,
        raws: RawDocuments | None,
    ) -> Readiness:
        """What ``rules.evaluate`` answers for these arguments; ``raws``: the request's
        documents' BSON (none: computed live)."""

        def live() -> Readiness:
            return evaluate(
                product,
                assets=assets,
                categories=categories,
                attributes=attributes,
                channel=channel,
                channels=channels,
                locales=locales,
                locale=locale,
                now=now,
            )

        if self.max_entries <= 0 or raws is None:
            return live()
        used = [assets.get(reference_key(r)) for r in product.get("media") or []]
        digest = _digest(raws, [product], used, categories, list(attributes.values()))
        if digest is None:
            return live()  # built or upcast in this process: no bytes to name it by
        if channels is not self._channels or locales is not self._locales:
            self._entries.clear()
            self._channels, self._locales = channels, locales
        key = (digest, channel, locale)
        rules = (channels.profiles.get(channel), channels.readiness, channels.text_lengths)
        entry = self._entries.get(key)
        if entry is not None and entry.holds(rules, now):
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.result
        self.misses += 1
        result = live()
        inputs = [product, *used, *categories, *attributes.values()]
        if not all(raws.unchanged(d) for d in inputs if d is not None):
            # Something changed a document in place after it was read: its bytes no longer
            # name what was scored, so the result must not be kept under them.
            self.refused += 1
            if self.refused == 1:
                log.warning("readiness memo: a document changed in place after it was read")
            return result
        since, until = _window(used, now)
        self._entries[key] = _Entry(since, until, rules, result)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result


@dataclass(frozen=True, slots=True)
class _Entry:
    since: datetime | None  # None: open
    until: datetime | None
    # The channel's profile, the readiness weights and the text limits, as objects: a profile
    # replaced in place (channels.profiles) must not answer with the old one's results.
    rules: tuple[object, object, object]
    result: Readiness

    def holds(self, rules: tuple[object, object, object], now: datetime) -> bool:
        return (
            all(a is b for a, b in zip(self.rules, rules, strict=True))
            and (self.since is None or self.since <= now)
            and (self.until is None or now < self.until)
        )


def _digest(raws: RawDocuments, *groups: Sequence[Document | None]) -> bytes | None:
    """A digest of the documents' BSON, group by group; None if one was not read as BSON."""
    digest = hashlib.blake2b(digest_size=16)
    for group in groups:
        digest.update(_LENGTH.pack(len(group)))
        for document in group:
            if document is None:
                digest.update(_ABSENT)
                continue
            raw = raws.of(document)
            if raw is None:
                return None
            # Length-prefixed, so that no two sequences of documents hash the same bytes.
            digest.update(_LENGTH.pack(len(raw)))
            digest.update(raw)
    return digest.digest()


def _window(
    assets: list[Document | None], now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The interval around ``now`` in which no asset's promotional window opens or closes."""
    since: datetime | None = None
    until: datetime | None = None
    for asset in assets:
        if asset is None:
            continue
        for name in ("validFrom", "validTo"):
            value = asset.get(name)
            if not isinstance(value, datetime):
                continue
            boundary = as_utc(value)
            if boundary <= now:
                since = boundary if since is None else max(since, boundary)
            else:
                until = boundary if until is None else min(until, boundary)
    return since, until
