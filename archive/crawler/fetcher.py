"""Fetching one URL politely and defensively, into a ``Capture`` or a named failure.

Redirects are followed by hand (hop limit, loop detection, never off the crawled sites), bodies
are streamed under a size cap, truncation is detected, and retries are bounded: exponential
backoff with jitter on 5xx, timeouts and connection errors, ``Retry-After`` honoured (capped)
on 429 and 503. Every request waits for its host's turn in the ``HostScheduler``.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from archive.crawler.deadline import request_deadline
from archive.crawler.inflate import Inflater, TooLarge, UnknownEncoding
from archive.crawler.politeness import HostScheduler
from archive.crawler.urls import normalise, site_of
from archive.french import count, number, technical, transport_reason
from archive.models import Capture

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class FetchResult:
    """The outcome of fetching one URL: a capture of the final response, or why there is none."""

    url: str
    capture: Capture | None = None
    error: str | None = None
    detail: str = ""
    attempts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        """The HTTP status of the final response, if one came."""
        return self.capture.status if self.capture else None


class _Oversized(Exception):
    pass


class _Truncated(Exception):
    pass


class _TooSlow(Exception):
    pass


class _Undecodable(Exception):
    pass


def user_agent(contact_url: str) -> str:
    """Return the User-Agent the crawler identifies itself with."""
    return f"notrecontinent-archive/0.1 (+{contact_url})"


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP date; None when unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, base: float, rng: random.Random) -> float:
    """Return the wait before retry number ATTEMPT (1-based): base * 2^(attempt-1) + jitter."""
    step = base * 2.0 ** (attempt - 1)
    return step + rng.uniform(0.0, step)


class Fetcher:
    """Fetches URLs for the crawler; thread-safe (one shared ``httpx.Client``)."""

    def __init__(
        self,
        client: httpx.Client,
        scheduler: HostScheduler,
        *,
        max_bytes: int,
        refuse: Callable[[str], str | None] = lambda url: None,
        tries: int = 3,
        backoff: float = 0.5,
        retry_after_cap: float = 60.0,
        max_redirects: int = 5,
        deadline: float = 120.0,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.scheduler = scheduler
        self.max_bytes = max_bytes
        self.refuse = refuse
        self.tries = tries
        self.backoff = backoff
        self.retry_after_cap = retry_after_cap
        self.max_redirects = max_redirects
        self.deadline = deadline
        self.rng = rng or random.Random()

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET URL (conditionally when ETAG or LAST_MODIFIED are known), following redirects."""
        result = FetchResult(url=url)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited = {normalise(url)}
        current = url
        for _hop in range(self.max_redirects + 1):
            refusal = self.refuse(current)
            if refusal is not None:
                result.error, result.detail = refusal, f"non téléchargée : {current}"
                return result
            capture = self._get_with_retries(current, headers, result)
            if capture is None:
                return result
            location = capture.header("location")
            if capture.status not in REDIRECT_STATUSES or not location:
                result.capture = Capture(
                    url=url, status=capture.status, headers=capture.headers,
                    body=capture.body, fetched_at=capture.fetched_at,
                    final_url=None if current == url else current,
                )
                return result
            try:
                target = normalise(urljoin(current, location))
            except ValueError:
                result.error = "bad_redirect"
                result.detail = f"{current} redirige vers une adresse invalide {location[:200]!r}"
                return result
            if not target.startswith(("http://", "https://")):
                result.error = "offsite"
                result.detail = f"non téléchargée : {current} redirige vers {location[:200]!r}"
                return result
            if target in visited:
                result.error = "redirect_loop"
                result.detail = f"{current} redirige en boucle vers {target}"
                return result
            visited.add(target)
            current = target
            headers = {}
        result.error = "too_many_redirects"
        result.detail = f"plus de {self.max_redirects} redirections depuis {url}"
        return result

    def _get_with_retries(
        self, url: str, headers: dict[str, str], result: FetchResult
    ) -> Capture | None:
        host = site_of(url)
        last: Capture | None = None
        for attempt in range(1, self.tries + 1):
            result.attempts += 1
            wait: float | None = None
            with self.scheduler.turn(host):
                try:
                    last = self._get(url, headers)
                except _Oversized as exc:
                    result.error, result.detail = "oversized", str(exc)
                    return None
                except _Undecodable as exc:
                    result.error, result.detail = "bad_encoding", str(exc)
                    return None
                except httpx.InvalidURL as exc:
                    # httpx reads the Location header even when it does not follow it.
                    result.error = "bad_redirect"
                    result.detail = f"{url} : adresse de redirection invalide {technical(exc)}"
                    return None
                except _Truncated as exc:
                    result.error, result.detail = "truncated", f"réponse tronquée : {exc}"
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    result.error = "truncated"
                    result.detail = f"{url} : {transport_reason(exc)}"
                except _TooSlow as exc:
                    result.error, result.detail = "timeout", f"{url} : {exc}"
                except httpx.TimeoutException:
                    result.error, result.detail = "timeout", f"{url} : délai dépassé"
                except httpx.TransportError as exc:
                    result.error = "connection"
                    result.detail = f"{url} : {transport_reason(exc)}"
                else:
                    result.error, result.detail = None, ""
                    if last.status not in RETRY_STATUSES and last.status != 429:
                        return last
                    wait = self._retry_after(last, result)
                    result.error = "server_error" if last.status != 429 else "rate_limited"
                    result.detail = f"{url} : HTTP {last.status}"
                if attempt < self.tries:
                    if wait is None:
                        wait = backoff_seconds(attempt, self.backoff, self.rng)
                    self.scheduler.pause(host, wait)
        if last is not None and result.error in ("server_error", "rate_limited"):
            result.detail += f" après {count(self.tries, 'essai')}"
        return None

    def _retry_after(self, capture: Capture, result: FetchResult) -> float | None:
        if capture.status not in (429, 503):
            return None
        seconds = retry_after_seconds(capture.header("retry-after"))
        if seconds is None:
            return None
        if seconds > self.retry_after_cap:
            result.notes.append(
                f"Retry-After de {seconds:g} s ramené à {self.retry_after_cap:g} s"
            )
            seconds = self.retry_after_cap
        return seconds

    def _get(self, url: str, headers: dict[str, str]) -> Capture:
        started = time.monotonic()
        try:
            # Bounds the whole exchange, headers included, when the client's transport is a
            # ``DeadlineTransport`` (the crawler's own); the check on each chunk below bounds
            # the body with any transport.
            with request_deadline(self.deadline):
                return self._get_within_deadline(url, headers, started)
        except httpx.TimeoutException:
            if time.monotonic() - started >= self.deadline:
                raise _TooSlow(f"pas de réponse complète après {self.deadline:g} s") from None
            raise

    def _get_within_deadline(self, url: str, headers: dict[str, str], started: float) -> Capture:
        fetched_at = datetime.now(UTC)
        with self.client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.strip().isdigit() else None
            if expected is not None and expected > self.max_bytes:
                raise _Oversized(
                    f"{url} : {number(expected)} octets annoncés, la limite est "
                    f"{number(self.max_bytes)}"
                )
            try:
                inflater = Inflater(response.headers.get("content-encoding"), self.max_bytes)
            except UnknownEncoding as exc:
                raise _Undecodable(f"{url} : {exc}") from None
            chunks: list[bytes] = []
            # Raw bytes, decoded here under the cap: a gzip bomb stops at the cap.
            for raw in response.iter_raw():
                try:
                    chunk = inflater.feed(raw)
                except TooLarge:
                    raise _Oversized(f"{url} : plus de {number(self.max_bytes)} octets une fois "
                                     "décompressé, limite atteinte") from None
                except zlib.error as exc:
                    raise _Undecodable(
                        f"{url} : corps compressé endommagé {technical(exc)}") from None
                if response.num_bytes_downloaded > self.max_bytes:
                    raise _Oversized(
                        f"{url} : plus de {number(self.max_bytes)} octets, limite atteinte")
                if time.monotonic() - started > self.deadline:
                    raise _TooSlow(f"corps encore en cours de réception après {self.deadline:g} s")
                chunks.append(chunk)
            if expected is not None and response.num_bytes_downloaded < expected:
                raise _Truncated(
                    f"{url} : {number(response.num_bytes_downloaded)} octets reçus sur "
                    f"{number(expected)}"
                )
            return Capture(
                url=url,
                status=response.status_code,
                headers=tuple(response.headers.multi_items()),
                body=b"".join(chunks),
                fetched_at=fetched_at,
            )
