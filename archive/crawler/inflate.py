"""Decompression with a ceiling: gzip sitemaps and ``Content-Encoding`` bodies, never a bomb.

A kilobyte of gzip can inflate to a megabyte, so every decompression the crawler does stops
as soon as its output passes the page cap (``ARCHIVE_MAX_PAGE_BYTES``) and says so with
``TooLarge``; memory never holds more than the cap plus one chunk.
"""

from __future__ import annotations

import zlib

from archive.config import SETTINGS

ENCODINGS = ("gzip", "x-gzip", "deflate")
"""The ``Content-Encoding`` values the crawler asks for and decodes itself."""

ACCEPT_ENCODING = "gzip, deflate"
"""The ``Accept-Encoding`` header the crawler sends (only what it can decode under a cap)."""

DEFAULT_LIMIT = int(next(s.default for s in SETTINGS if s.name == "max_page_bytes"))
"""The page cap's default (``ARCHIVE_MAX_PAGE_BYTES``), for callers not given the setting."""

_CHUNK = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class TooLarge(Exception):
    """The decompressed data would exceed the limit."""


class UnknownEncoding(Exception):
    """The response uses a ``Content-Encoding`` the crawler does not decode."""


class Inflater:
    """Streaming decoder of one ``Content-Encoding`` whose total output is capped at LIMIT."""

    def __init__(self, encoding: str | None, limit: int) -> None:
        name = (encoding or "").strip().lower()
        self.limit = limit
        self.size = 0
        self._identity = name in ("", "identity")
        if not self._identity and name not in ENCODINGS:
            raise UnknownEncoding(f"Content-Encoding {name!r} non pris en charge")
        # wbits 47 reads gzip or zlib headers; a bare deflate stream is retried with -15.
        self._wbits = 47
        self._inflater = zlib.decompressobj(self._wbits)
        self._first = True
        self._more = False

    def feed(self, data: bytes) -> bytes:
        """Decode DATA (the next raw bytes); raise TooLarge once past the limit."""
        if self._identity:
            return self._count(data)
        pieces: list[bytes] = []
        pending = data
        while pending or self._more:
            try:
                out = self._inflater.decompress(pending, _CHUNK)
            except zlib.error:
                if not self._first:
                    raise
                self._first = False
                self._wbits = -15
                self._inflater = zlib.decompressobj(self._wbits)
                continue
            self._first = False
            pieces.append(self._count(out))
            # A full chunk may leave output inside zlib even when all input was consumed.
            self._more = len(out) == _CHUNK
            pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                rest = self._inflater.unused_data  # (unconsumed_tail repeats it at eof)
                if not rest.startswith(_GZIP_MAGIC):
                    break  # trailing padding after the last member is ignored, as gzip does
                # Another gzip member follows (``cat a.gz b.gz`` is valid gzip).
                pending = rest
                self._inflater = zlib.decompressobj(self._wbits)
                self._more = False
        return b"".join(pieces)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(f"plus de {self.limit} octets une fois décompressé")
        return data


def inflate(data: bytes, limit: int) -> bytes:
    """Return DATA decompressed if it is gzip (else as it is), raising TooLarge past LIMIT."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    return Inflater("gzip", limit).feed(data)


def inflate_head(data: bytes, size: int) -> bytes:
    """Return the first SIZE bytes of DATA decompressed if it is gzip (else of DATA itself)."""
    if not data.startswith(_GZIP_MAGIC):
        return data[:size]
    try:
        return zlib.decompressobj(47).decompress(data, size)
    except zlib.error:
        return data[:size]
