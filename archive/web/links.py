"""Which stored addresses may become links: only absolute ``http``/``https`` URLs.

Every address the archive holds was written by a stranger (a canonical link, a redirect). A
``javascript:`` or ``data:`` address rendered as a link would run in a reader's browser (the CSP
stops it there, feed readers and spreadsheets do not), so anything else is shown as text only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

WEB_SCHEMES = frozenset({"http", "https"})
# Characters a browser strips or ignores inside a URL's scheme (WHATWG URL parsing): a scheme
# spelt "java\tscript:" still runs, so such an address is never a link.
_STRIPPED = frozenset("\t\n\r")


def web_link(url: str | None) -> str | None:
    """Return URL if it is an absolute http(s) address with a host, else None (show as text)."""
    if not url or any(ch in _STRIPPED or ord(ch) < 0x20 or ch == "\x7f" for ch in url):
        return None
    if url != url.strip():
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return url


def init_app(app: Flask) -> None:
    """Register ``web_link`` as a Jinja filter of APP."""
    app.add_template_filter(web_link)
