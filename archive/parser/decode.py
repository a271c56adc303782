"""Bytes to text: HTTP charset, then byte-order mark, then ``<meta charset>``, then detection.

A declaration is believed unless the bytes contradict it: a declared encoding that cannot
decode them strictly, or a single-byte encoding declared for bytes that are valid UTF-8 with
multi-byte sequences (a server that says ``iso-8859-1`` for a UTF-8 page), falls through to
the next source. UTF-8 with a few stray bytes among more good multi-byte characters stays
UTF-8, each stray byte read as windows-1252.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE
)
_META_SCAN_BYTES = 4096
_DETECT_SCAN_BYTES = 200_000

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# As browsers do (WHATWG Encoding): these labels mean windows-1252 on the web.
_WEB_ALIASES = {"latin-1": "windows-1252", "iso8859-1": "windows-1252", "ascii": "windows-1252"}
_SINGLE_BYTE = frozenset({"windows-1252", "cp1252", "iso8859-15", "cp1250", "cp1251"})


def encoding_name(label: str) -> str | None:
    """Return the canonical name of an encoding LABEL (``Latin-1`` -> ``windows-1252``), or None."""
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None
    if name == "utf-8-sig":
        return "utf-8"
    if name == "cp1252":
        return "windows-1252"
    return _WEB_ALIASES.get(name, name)


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode("cp1252" if encoding == "windows-1252" else encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_like_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _believe(body: bytes, encoding: str | None) -> str | None:
    """Decode BODY as ENCODING unless the bytes contradict the declaration."""
    if encoding is None:
        return None
    if encoding in _SINGLE_BYTE and _looks_like_utf8(body):
        return None
    text = _strict(body, encoding)
    if text is None and encoding == "utf-8":
        return _repaired_utf8(body)
    return text


_ESCAPED = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
_REPAIRABLE_SHARE = 2
"""UTF-8 with at most one bad byte per this many good non-ASCII characters is repaired
(valid multi-byte UTF-8 sequences almost never occur by chance in windows-1252 text)."""


def _repaired_utf8(body: bytes) -> str | None:
    """Decode mostly-UTF-8 BODY, reading each stray byte as windows-1252; None if not mostly.

    One stray byte (a Latin-1 ``é`` pasted into a UTF-8 page, a damaged byte) must not make the
    whole page windows-1252: that would turn every accent of it into ``Ã©``.
    """
    text = body.decode("utf-8", "surrogateescape")
    bad = len(_ESCAPED.findall(text))
    good = len(_NON_ASCII.findall(text))
    if bad == 0 or bad * _REPAIRABLE_SHARE > good:
        return None
    return _ESCAPED.sub(
        lambda m: bytes([ord(m.group(0)) - 0xDC00]).decode("cp1252", "replace"), text)


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return the page's text and the encoding used to decode it."""
    if content_type:
        found = _HEADER_CHARSET.search(content_type)
        if found:
            encoding = encoding_name(found.group(1))
            text = _believe(body, encoding)
            if text is not None and encoding is not None:
                return _strip_bom(text), encoding
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = _strict(body[len(bom):], encoding)
            if text is not None:
                return text, encoding
    found_meta = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if found_meta:
        encoding = encoding_name(found_meta.group(1).decode("ascii", "replace"))
        text = _believe(body, encoding)
        if text is not None and encoding is not None:
            return _strip_bom(text), encoding
    return _detect(body)


def _detect(body: bytes) -> tuple[str, str]:
    """Guess the encoding of undeclared bytes: UTF-8, then windows-1252, then a detector."""
    try:
        return _strip_bom(body.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    repaired = _repaired_utf8(body)
    if repaired is not None:
        return _strip_bom(repaired), "utf-8"
    # Browsers in a French locale fall back on windows-1252; so do the platform's old pages.
    text = _strict(body, "windows-1252")
    if text is not None:
        return text, "windows-1252"
    best = from_bytes(body[:_DETECT_SCAN_BYTES]).best()
    encoding = encoding_name(best.encoding) if best is not None else None
    if encoding is not None:
        text = _strict(body, encoding)
        if text is not None:
            return _strip_bom(text), encoding
    # Nothing fits strictly: windows-1252 keeps every readable byte of a French page.
    return body.decode("cp1252", errors="replace"), "windows-1252"
