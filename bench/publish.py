"""Benchmark publishing: two web hosts behind nginx, a new release published under load.

    python bench/publish.py --articles 10000 --clients 8 --seconds 30 [--workdir DIR] [--reuse]

Builds (or reuses, with --reuse) a data directory of N replica articles under WORKDIR, publishes
it to two local publish directories (the first, full send), starts one gunicorn per host serving
its publish directory (`ARCHIVE_RELEASE_DIR`) and the load balancer block of docs/operations.md
in a private nginx, then runs C client threads of mixed searches through nginx for S seconds.
A third of the way in, 100 new articles are archived (each with a WARC capture) and indexed,
and `python -m archive publish` sends the new release to both hosts. Prints the time of each
publish (staging, sending, the window between the first and the last host's switch), how long
after the command every host answered from the new release, what the second release added on
disk, and the requests, errors and latency percentiles before, during and after the publish.
Targets: zero errors; every host on the new release within ARCHIVE_SEARCHER_CHECK_SECONDS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive.models import Article, Capture  # noqa: E402 - the repository root is put on the path first
from archive.replica.corpus import Corpus  # noqa: E402
from archive.store import Archive  # noqa: E402
from bench.web import build_data_dir, percentile, search_mix  # noqa: E402
from tests.web_servers import (  # noqa: E402 - the tests' private nginx, the same block
    documented_balancer_block,
    local_balancer_block,
    start_nginx,
)

PUBLIC_HOST = "archive.example.org"
START_TIMEOUT = 300.0
REQUEST_TIMEOUT = 30.0
NEW_ARTICLES = 100


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int, bytes, str]:
    """GET PATH on 127.0.0.1:PORT; return the status, the body and the release header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": PUBLIC_HOST})
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("X-Archive-Release") or ""
    finally:
        conn.close()


def publish(data: Path, *args: str) -> tuple[float, str]:
    """Run ``python -m archive publish``; return its duration and its summary line."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "archive", "--data-dir", str(data), "publish",
                           *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"publish failed ({done.returncode}): {done.stderr}{done.stdout}")
    return time.monotonic() - started, done.stdout.strip().splitlines()[-1]


def add_articles(data: Path, count: int) -> None:
    """Archive COUNT new articles, each with a WARC capture, then update the index."""
    from indexer.update import update_index

    when = datetime.now(UTC)
    with Archive.open(data / "archive.sqlite3", warc_dir=data / "warc") as archive:
        with archive.transaction():
            for n in range(count):
                url = f"https://sn.notrecontinent.com/2026/01/02/publication-{when:%H%M%S}-{n}/"
                body = (f"Le conseil municipal a voté le budget du port ({n}).\n\n"
                        "Les habitants attendent une décision avant la fin du mois.")
                page = f"<html><body><h1>Budget {n}</h1><p>{body}</p></body></html>".encode()
                capture = archive.captures.store_capture(Capture(
                    url=url, status=200, headers=(("Content-Type", "text/html"),), body=page,
                    fetched_at=when))
                archive.articles.save_article(
                    Article(url=url, title=f"Le budget du port ({n})", body=body,
                            author="Awa Ndiaye", published=date(2026, 1, 2), edition="sn",
                            canonical_url=url),
                    capture_id=capture, seen_at=when + timedelta(seconds=n))
    print(f"  {update_index(data / 'archive.sqlite3', data / 'index').summary()}",
          file=sys.stderr)


def start_gunicorn(publish_dir: Path, port: int, workers: int, threads: int,
                   check_seconds: float) -> subprocess.Popen[bytes]:
    """Start gunicorn serving PUBLISH_DIR's current release on PORT."""
    env = dict(os.environ, ARCHIVE_RELEASE_DIR=str(publish_dir), ARCHIVE_WEB_WORKERS=str(workers),
               ARCHIVE_WEB_THREADS=str(threads), ARCHIVE_WEB_BIND=f"127.0.0.1:{port}",
               ARCHIVE_TRUSTED_PROXIES="1", ARCHIVE_SEARCHER_CHECK_SECONDS=str(check_seconds))
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
         "--chdir", str(REPO), "--access-logfile", "/dev/null", "wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_serving(port: int, release: str, deadline: float) -> bool:
    """Poll PORT's /healthz until it names RELEASE (each poll is a request) or DEADLINE."""
    while time.monotonic() < deadline:
        try:
            status, body, _ = get(port, "/healthz", timeout=10)
        except OSError:
            continue
        if status == 200 and json.loads(body).get("release") == release:
            return True
    return False


@dataclass
class Load:
    """Requests through the balancer: (start, seconds, status, release)."""

    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: list[tuple[float, float, int, str]] = field(default_factory=list)

    def client(self, port: int, paths: list[str], seed: int) -> None:
        """Send PATHS in turn on one keep-alive connection until told to stop."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        i = seed
        while not self.stop.is_set():
            path = paths[i % len(paths)]
            i += 7
            began = time.monotonic()
            release = ""
            try:
                conn.request("GET", path, headers={"Host": PUBLIC_HOST})
                response = conn.getresponse()
                response.read()
                status = response.status
                release = response.getheader("X-Archive-Release") or ""
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            with self.lock:
                self.done.append((began, time.monotonic() - began, status, release))
        conn.close()


def window(load: Load, start: float, end: float) -> tuple[int, int, float, float]:
    """Return requests, errors, p50 and p95 ms of the requests started in [START, END)."""
    chosen = [(s, status) for began, s, status, _ in load.done if start <= began < end]
    latencies = [s * 1000 for s, _ in chosen]
    return (len(chosen), sum(1 for _, status in chosen if status != 200),
            percentile(latencies, 0.5), percentile(latencies, 0.95))


def _statuses(load: Load) -> dict[str, int]:
    """Return how many requests failed with each status (0: no answer)."""
    counts: dict[str, int] = {}
    for _, _, status, _ in load.done:
        if status != 200:
            counts[str(status)] = counts.get(str(status), 0) + 1
    return counts


def disk_added(old: Path, new: Path) -> tuple[int, int]:
    """Return the files and bytes of release NEW that are not hard links to release OLD."""
    inodes = {p.stat().st_ino for p in old.rglob("*") if p.is_file() and not p.is_symlink()}
    files = size = 0
    for path in new.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_ino not in inodes:
            files += 1
            size += path.stat().st_size
    return files, size


def main() -> None:  # noqa: C901 - one flat script: build, serve, load, publish, report
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--check-seconds", type=float, default=2.0,
                        help="ARCHIVE_SEARCHER_CHECK_SECONDS of the web hosts")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse WORKDIR/data as it is")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-publish-"))
    data = workdir / "data"
    if not (args.reuse and (data / "archive.sqlite3").exists()):
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        build_data_dir(data, args.articles)
    webs = [workdir / "web1", workdir / "web2"]
    for web in webs:
        shutil.rmtree(web, ignore_errors=True)
    first_seconds, first_line = publish(data, "--init", *map(str, webs))
    first = os.readlink(webs[0] / "current").rsplit("/", 1)[-1]
    print(f"  {first_line}", file=sys.stderr)

    ports = [free_port() for _ in webs]
    servers = [start_gunicorn(web, port, args.workers, args.threads, args.check_seconds)
               for web, port in zip(webs, ports, strict=True)]
    balancer = free_port()
    stop_nginx: list[str] = []
    load = Load()
    clients: list[threading.Thread] = []
    try:
        stop_nginx = [*start_nginx(
            local_balancer_block(documented_balancer_block(), balancer, ports),
            workdir / "nginx", connections=256), "-s", "stop"]
        for port in ports:
            if not wait_serving(port, first, time.monotonic() + START_TIMEOUT):
                raise SystemExit(f"the host on {port} never served {first}")
        paths = search_mix(Corpus(size=args.articles), 3000)
        clients += [threading.Thread(target=load.client, args=(balancer, paths, n), daemon=True)
                   for n in range(args.clients)]
        began = time.monotonic()
        for client in clients:
            client.start()
        load.stop.wait(args.seconds / 3)  # steady load before the publish
        add_articles(data, NEW_ARTICLES)
        publish_began = time.monotonic()
        second_seconds, second_line = publish(data, *map(str, webs))
        returned = time.monotonic()
        second = os.readlink(webs[0] / "current").rsplit("/", 1)[-1]
        everywhere = [wait_serving(port, second, returned + START_TIMEOUT) for port in ports]
        served_at = time.monotonic()
        load.stop.wait(max(0.0, began + args.seconds - served_at))
    finally:
        load.stop.set()
        for client in clients:  # every request answered before the servers stop
            client.join(timeout=REQUEST_TIMEOUT + 5)
        if stop_nginx:
            subprocess.run(stop_nginx, capture_output=True, timeout=30, check=False)
        for server in servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    ended = time.monotonic()
    files, size = disk_added(webs[0] / "releases" / first, webs[0] / "releases" / second)
    # The command's summary is French: a decimal comma, thousands apart by a narrow space.
    stage = re.search(r"préparation ([\d,.]+) s, bascule ([\d\u202f\u00a0]+) ms", second_line)
    rows = {
        "articles": args.articles,
        "first_publish_s": round(first_seconds, 2),
        "second_publish_s": round(second_seconds, 2),
        "second_stage_s": float(stage.group(1).replace(",", ".")) if stage else None,
        "switch_window_ms": int(re.sub(r"\D", "", stage.group(2))) if stage else None,
        "all_hosts_serving_ms": round((served_at - returned) * 1000) if all(everywhere) else None,
        "second_release_new_files": files,
        "second_release_new_mb": round(size / 1e6, 1),
        "windows": {
            name: dict(zip(("requests", "errors", "p50_ms", "p95_ms"),
                           window(load, start, end), strict=True))
            for name, start, end in (("before", began, publish_began),
                                     ("during", publish_began, served_at),
                                     ("after", served_at, ended))},
        "error_statuses": _statuses(load),
        "load": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"\npublish, {args.articles:,} articles, 2 hosts behind nginx, {args.clients} clients, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  first publish (full send)       {rows['first_publish_s']:>8} s")
    print(f"  second publish (+{NEW_ARTICLES} articles)   {rows['second_publish_s']:>8} s "
          f"(staging {rows['second_stage_s']} s)")
    print(f"  switch window (first..last host) {rows['switch_window_ms']!s:>7} ms")
    print(f"  every host on the new release    {rows['all_hosts_serving_ms']!s:>7} ms after the "
          "command returned")
    print(f"  second release on disk           {files} new files, "
          f"{rows['second_release_new_mb']} MB (the rest hard-linked)")
    print(f"  failed requests by status        {rows['error_statuses'] or 'none'}")
    print("  window    requests  errors  p50 ms  p95 ms")
    for name, figures in rows["windows"].items():  # type: ignore[attr-defined]
        print(f"  {name:<8} {figures['requests']:>9} {figures['errors']:>7} "
              f"{figures['p50_ms']:>7.1f} {figures['p95_ms']:>7.1f}")


if __name__ == "__main__":
    main()
