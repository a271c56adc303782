"""Shared fixtures: temporary data directories, settings, and the CLI runner."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_site import HostileArchive, crawl_hostile_archive
from wordpress_site import WordPressSite, running_wordpress

from archive.config import Settings, load_settings

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    """Refuse any connection that does not go to this machine (tests stay on loopback)."""
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise RuntimeError(f"test tried to reach {host}: tests use loopback only")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled() -> None:
    """Compile (or load) the search's kernels once before any test: a kernel's first call
    compiles it (seconds), which would otherwise count against the first hypothesis example's
    deadline in whichever test happens to call it first."""
    import indexer.search  # noqa: F401  # imports every module registering kernels
    from indexer import compiled

    compiled.warm_up()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    """Settings pointing at the test's data directory, with no politeness delay."""
    return load_settings(environ={}, data_dir=data_dir, crawl_delay=0.0)


@pytest.fixture
def run_cli(data_dir: Path) -> Iterator[object]:
    """Run ``python -m archive ...`` in a subprocess; return (exit code, stdout, stderr)."""
    import subprocess
    import sys

    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        import os

        full_env = dict(os.environ)
        full_env["ARCHIVE_DATA_DIR"] = str(data_dir)
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "archive", *args],
            capture_output=True, text=True, timeout=timeout, env=full_env,
        )
        return proc.returncode, proc.stdout, proc.stderr

    yield run


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPressSite]:
    """A real WordPress on 127.0.0.1, seeded, shared by the session (tests/wordpress_site.py)."""
    with running_wordpress(tmp_path_factory.mktemp("wordpress")) as site:
        yield site


@pytest.fixture(scope="session")
def hostile_archive(tmp_path_factory: pytest.TempPathFactory) -> HostileArchive:
    """A data directory holding two crawls of the hostile site and its victim, indexed.

    Built once per test session (see ``tests/hostile_site.py``); tests must only read it.
    """
    return crawl_hostile_archive(tmp_path_factory.mktemp("hostile") / "data")
