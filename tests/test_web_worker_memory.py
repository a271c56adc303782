"""A worker started by gunicorn caps its malloc arenas as the settings ask, before its
threads exist (``gunicorn.conf.py``'s ``post_fork``, ``indexer.memory.cap_arenas``): each arena
keeps what its threads freed, so four threads with an arena each held tens of megabytes more
at a million articles (``docs/operations.md``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from web_servers import fetch, gunicorn

from archive.config import load_settings
from indexer import memory

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or memory._glibc() is None,
                           reason="glibc's mallopt needed")
CAPPED = re.compile(r"processus web (\d+) : au plus (\d+) arène\(s\) de malloc")


def capped_workers(tmp_path: Path, env: dict[str, str]) -> dict[int, int]:
    """Serve an empty data directory with ENV; return each worker's pid and arena cap logged."""
    log: list[str] = []
    with gunicorn(tmp_path / "data", tmp_path, env, log=log) as port:
        status, _ = fetch(port, "/healthz")
        assert status in (200, 503)
    return {int(pid): int(cap) for line in log for pid, cap in CAPPED.findall(line)}


@glibc
def test_each_worker_caps_its_arenas_at_the_setting(tmp_path: Path) -> None:
    workers = capped_workers(tmp_path, {"ARCHIVE_WEB_MALLOC_ARENAS": "2"})
    assert list(workers.values()) == [2] * load_settings({}).web_workers


@glibc
def test_the_default_cap_applies_when_nothing_is_set(tmp_path: Path) -> None:
    defaults = load_settings({})
    assert defaults.web_malloc_arenas >= 1
    workers = capped_workers(tmp_path, {})
    assert list(workers.values()) == [defaults.web_malloc_arenas] * defaults.web_workers


@glibc
def test_zero_leaves_glibc_s_own_arenas(tmp_path: Path) -> None:
    assert capped_workers(tmp_path, {"ARCHIVE_WEB_MALLOC_ARENAS": "0"}) == {}
