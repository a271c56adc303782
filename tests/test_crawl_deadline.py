"""A fetch has a deadline for the whole response, headers included, not only per read.

The hostile site trickles the headers of one page byte by byte (``SLOW_HEADER_SECONDS`` in
all), every byte well inside httpx's read timeout, which alone would let such a server hold
the crawler as long as it likes.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hostile_site import SLOW_HEADER_SECONDS, HostileSite, RunningSite, serve_hostile_site

from archive.crawler.deadline import DeadlineTransport, request_deadline
from archive.crawler.fetcher import Fetcher
from archive.crawler.politeness import HostScheduler

SLOW_PAGE = "/2024/02/02/entetes-lents/"
DEADLINE = SLOW_HEADER_SECONDS / 3


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    served = serve_hostile_site(HostileSite())
    try:
        yield served
    finally:
        served.stop()


def _fetcher(deadline: float) -> Fetcher:
    client = httpx.Client(timeout=httpx.Timeout(10.0), transport=DeadlineTransport())
    return Fetcher(client, HostScheduler(0.0), max_bytes=1_000_000, tries=1, deadline=deadline)


def test_trickled_headers_end_in_a_timeout_at_the_deadline(site: RunningSite) -> None:
    result = _fetcher(DEADLINE).fetch(site.url + SLOW_PAGE)
    assert result.capture is None
    assert result.error == "timeout"
    assert "pas de réponse complète après" in result.detail
    assert result.detail.count(SLOW_PAGE) == 1


def test_trickled_headers_arrive_when_the_deadline_allows_them(site: RunningSite) -> None:
    result = _fetcher(SLOW_HEADER_SECONDS * 20).fetch(site.url + SLOW_PAGE)
    assert result.error is None
    assert result.capture is not None and result.capture.status == 200


def test_a_request_past_its_deadline_is_refused_before_any_byte_is_sent(
        site: RunningSite) -> None:
    with httpx.Client(transport=DeadlineTransport()) as client, request_deadline(-1.0):
        with pytest.raises(httpx.ConnectTimeout):
            client.get(site.url + "/")


def test_requests_outside_a_deadline_keep_httpx_timeouts_alone(site: RunningSite) -> None:
    with httpx.Client(transport=DeadlineTransport()) as client:
        assert client.get(site.url + "/robots.txt").status_code in (200, 404)
