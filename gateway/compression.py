"""Compression of GraphQL answers: gzip, for clients that take it (``Accept-Encoding``).

Brotli would save a little more, but no well-kept package for it is installed; gzip from the
standard library is what every client and CDN takes. The gzip header carries no timestamp, so
one body always compresses to the same bytes.
"""

from __future__ import annotations

import gzip

import anyio.to_thread

from gateway.quality_values import quality_list

# Content codings this gateway produces, most preferred first.
CODINGS = ("gzip",)
# Larger bodies are compressed off the event loop (a few milliseconds of CPU and more).
THREAD_MIN_BYTES = 128 * 1024


def encoding_for(accept_encoding: str) -> str | None:
    """The coding to answer in: gzip when ``Accept-Encoding`` takes it (by name or ``*``)."""
    if not accept_encoding:
        return None
    accepted = dict(quality_list(accept_encoding))
    for coding in CODINGS:
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


async def compressed_body(body: bytes, encoding: str, level: int) -> bytes:
    assert encoding == "gzip", encoding

    def compress() -> bytes:
        return gzip.compress(body, compresslevel=level, mtime=0)

    if len(body) >= THREAD_MIN_BYTES:
        return await anyio.to_thread.run_sync(compress)
    return compress()
