"""A site's robots.txt as the crawler obeys it: rules, Crawl-delay and the sitemaps it announces.

Follows RFC 9309: a missing robots.txt (4xx) allows everything; one that cannot be read
(5xx after retries, or no answer) disallows everything for this run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protego import Protego

ROBOTS_AGENT = "notrecontinent-archive"
"""The product token matched against ``User-agent:`` groups."""


@dataclass
class RobotsRules:
    """What robots.txt lets the crawler do on one site."""

    site: str
    parsed: Protego | None = None
    allow_all: bool = False
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)
    note: str = ""

    @classmethod
    def from_text(cls, site: str, text: str) -> RobotsRules:
        """Build the rules from the text of a robots.txt file."""
        parsed = Protego.parse(text)
        delay = parsed.crawl_delay(ROBOTS_AGENT)
        return cls(
            site=site,
            parsed=parsed,
            crawl_delay=float(delay) if delay is not None else None,
            sitemaps=[url.strip() for url in parsed.sitemaps if url.strip()],
            note="robots.txt read",
        )

    @classmethod
    def from_status(cls, site: str, status: int | None) -> RobotsRules:
        """Build the rules for a robots.txt that answered STATUS (None: no answer) without text."""
        if status is not None and 400 <= status < 500:
            note = f"pas de robots.txt (HTTP {status}) : tout est permis"
            return cls(site=site, allow_all=True, note=note)
        reason = f"HTTP {status}" if status is not None else "pas de réponse"
        return cls(site=site,
                   note=f"robots.txt illisible ({reason}) : rien n'est téléchargé (RFC 9309)")

    def allows(self, url: str) -> bool:
        """Tell whether the crawler may fetch URL."""
        if self.allow_all:
            return True
        if self.parsed is None:
            return False
        return bool(self.parsed.can_fetch(url, ROBOTS_AGENT))
