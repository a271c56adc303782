"""Security headers on every response: a strict Content-Security-Policy and its companions.

No page carries an inline script or style, so the policy allows only our own files; the
timeline SVG is drawn with attributes alone.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

from archive.errors import InvalidInput

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# A host name (labels of letters, digits and hyphens), an IPv4 address or a bracketed IPv6
# address, with an optional port: what may appear in the absolute links the pages build.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]{2,45}\]")
_PORT = re.compile(r":[0-9]{1,5}")


def check_host() -> None:
    """Refuse (400) a request whose Host header is not a host name: it would go into links."""
    host = request.host
    name, colon, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not colon or "]" in port:
        name, port = host, ""
    if not _HOST.fullmatch(name) or (port and not _PORT.fullmatch(":" + port)):
        raise InvalidInput("L'en-tête Host de la requête n'est pas un nom d'hôte valide.")


def add_security_headers(response: Response) -> Response:
    """Set the security headers on RESPONSE; pages may be cached a minute, errors never."""
    headers = response.headers
    # One pass over the headers already set rather than one per header added (werkzeug's
    # ``setdefault`` compares every name each time: a tenth of answering a kept page).
    present = {name.lower() for name in headers.keys()}
    for name, value in HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    if "cache-control" not in present and not request.path.startswith("/static/"):
        ok = response.status_code in (200, 304)
        headers.add("Cache-Control", "public, max-age=60" if ok else "no-store")
    return response


def init_app(app: Flask) -> None:
    """Check the Host of every request of APP and set the headers on every response."""
    app.before_request(check_host)
    app.after_request(add_security_headers)
