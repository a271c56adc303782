"""Fault plans for the replica: the ways a real server misbehaves, switched on per page.

A fault key is a post id (``int``: that article's page) or a path (``str``: any URL path,
such as ``"/feed/"``). ``Faults.all()`` switches every mode on for a few articles of the
first edition; ``Faults.none()`` is the well-behaved platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FaultKey = int | str
OVERSIZED_BYTES = 6_500_000
FAULT_NAMES = (
    "slow", "error500", "rate_limit", "truncated", "wrong_charset", "lying_charset",
    "oversized", "redirect_loop", "sitemap_missing", "malformed_sitemap",
)
ALL_FAULT_POST_IDS = {
    "slow": 28, "error500_transient": 29, "error500": 30, "rate_limit": 31, "truncated": 32,
    "wrong_charset": 33, "lying_charset": 34, "oversized": 35,
}


@dataclass
class Faults:
    """Which pages misbehave, and how.

    - ``slow``: key -> seconds to wait before answering.
    - ``error500``: key -> answer 500 to the first K requests (``None``: always).
    - ``rate_limit``: key -> answer 429 with ``Retry-After: retry_after`` to the first K requests.
    - ``truncated``: announce the full Content-Length, send half the body, close.
    - ``wrong_charset``: body in windows-1252, header ``text/html`` without charset,
      ``<meta charset="windows-1252">``.
    - ``lying_charset``: header and meta say UTF-8, the bytes are windows-1252.
    - ``oversized``: the page is padded beyond ``OVERSIZED_BYTES`` (6.5 MB).
    - ``redirect_loop``: ``/boucle/a/`` -> ``/boucle/b/`` -> ``/boucle/a/``, linked from home.
    - ``sitemap_missing``: that many URLs in the first posts sitemap answer 404.
    - ``malformed_sitemap``: the sitemap index lists a sub-sitemap that is broken XML.
    """

    slow: dict[FaultKey, float] = field(default_factory=dict)
    error500: dict[FaultKey, int | None] = field(default_factory=dict)
    rate_limit: dict[FaultKey, int] = field(default_factory=dict)
    retry_after: int = 1
    truncated: set[FaultKey] = field(default_factory=set)
    wrong_charset: set[FaultKey] = field(default_factory=set)
    lying_charset: set[FaultKey] = field(default_factory=set)
    oversized: set[FaultKey] = field(default_factory=set)
    redirect_loop: bool = False
    sitemap_missing: int = 0
    malformed_sitemap: bool = False

    @classmethod
    def none(cls) -> Faults:
        """Return the plan of a well-behaved platform."""
        return cls()

    @classmethod
    def all(cls, slow_seconds: float = 0.5) -> Faults:
        """Return a plan with every fault mode on, each for one article (ALL_FAULT_POST_IDS)."""
        ids = ALL_FAULT_POST_IDS
        return cls(
            slow={ids["slow"]: slow_seconds},
            error500={ids["error500_transient"]: 2, ids["error500"]: None},
            rate_limit={ids["rate_limit"]: 1},
            retry_after=1,
            truncated={ids["truncated"]},
            wrong_charset={ids["wrong_charset"]},
            lying_charset={ids["lying_charset"]},
            oversized={ids["oversized"]},
            redirect_loop=True,
            sitemap_missing=3,
            malformed_sitemap=True,
        )

    def faulty_post_ids(self) -> set[int]:
        """Return every post id some fault applies to."""
        keys: set[FaultKey] = set(self.slow) | set(self.error500) | set(self.rate_limit)
        keys |= self.truncated | self.wrong_charset | self.lying_charset | self.oversized
        return {key for key in keys if isinstance(key, int)}
