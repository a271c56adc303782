"""Benchmark the web front end: gunicorn serving N replica articles to C concurrent clients.

    python bench/web.py --articles 10000 --clients 16 --seconds 30 [--reuse DIR] [--json]
                        [--mix uniform|zipf] [--client python|wrk] [--client-processes 4]
                        [--wrk-threads 2] [--max-requests N] [--nginx]

Builds (or reuses) a data directory of replica articles saved into a real archive and indexed
with a full build, starts gunicorn with the repository's gunicorn.conf.py on a free loopback
port, and runs C clients for S seconds with mixed realistic searches (words drawn from the
corpus, some with an author, a period, a date sort either way, an edition kept or left out,
a category, or a second page; every results page carries its facets and associated words).
The clients are threads spread over several processes (one Python process would serialise
them on its interpreter lock and count that wait as server latency), each on its own
keep-alive connection. Each client draws its next search from a pool of 6,000: uniformly by
default, or with ``--mix zipf`` by popularity (rank r drawn in proportion to 1/r, as the
queries of a public search engine are), and the share of answers a worker already held
(``X-Archive-Cache: hit``) is printed beside the figures, with the CPU time the server and the
clients spent per request.

``--client wrk`` runs Debian's ``wrk`` instead (``bench/wrk_load.py``): C connections over two
threads, connection c sending the searches the Python client of seed c draws, the answers held
counted in its Lua script. It spends a fraction of the Python clients' CPU an answer, which
the server then has (both are printed, with each one's share of the machine's cores).
Prints requests per second, latency percentiles, errors, the cache hit rate, CPU per request
and the memory of each worker (RSS and private USS).

``--nginx`` puts the nginx of docs/operations.md in front, as deployed (its server block run
on a loopback port without TLS, its proxy cache of search answers in a temporary folder,
gunicorn trusting one proxy): the clients then ask nginx for the archive's public host name,
the answers nginx served from its cache (``X-Proxy-Cache: HIT`` or ``REVALIDATED``) are
counted apart, and nginx's CPU counts in the server's.
Targets (issue 14): zero errors, p95 under 100 ms, at least 400 requests/s on 2 cores.

``--profile PAGES`` instead runs PAGES answers of the same uniform mix in this one process
(Flask's test client, no gunicorn, finished pages not kept) under cProfile and prints the CPU
time per answer and which share of it each part of a results page takes: the search's
matching, facets, associated words and hits (snippets and their SQLite reads), the page's
links, the template, the API's JSON, the HTTP caching, and the rest (Flask, werkzeug).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive.config import load_settings  # noqa: E402 - the repository root is put on the path first
from archive.models import Article  # noqa: E402
from archive.replica.corpus import CATEGORIES, Corpus  # noqa: E402
from archive.store import COMPLETE, Archive  # noqa: E402
from bench.wrk_load import (  # noqa: E402
    WrkRound,
    children_cpu,
    finish_round,
    start_round,
    wait_for,
    write_script,
)
from indexer.location import current_build  # noqa: E402
from tests.web_servers import (  # noqa: E402 - the tests' private nginx, the same block
    documented_nginx_block,
    local_nginx_block,
    start_nginx,
    stop_server,
)

WORD = re.compile(r"[^\W\d_]{5,}")
QUERY_POOL = 6000
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0
# The cores of this machine: the CPU shares of the server and the clients are of these.
CORES = os.cpu_count() or 1


def build_data_dir(data_dir: Path, articles: int) -> None:
    """Save ARTICLES replica articles into a new archive under DATA_DIR and index them fully."""
    from indexer.update import update_index

    corpus = Corpus(size=articles)
    seen = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    started = time.monotonic()
    with Archive.open(data_dir / "archive.sqlite3", warc_dir=data_dir / "warc") as archive:
        run = archive.crawl_state.start_run(["https://sn.notrecontinent.com/"])
        for start in range(0, articles, 1000):
            with archive.transaction():
                for i in range(start, min(articles, start + 1000)):
                    ra = corpus.article(i)
                    archive.articles.save_article(
                        Article(url=ra.canonical_url, title=ra.title, body=ra.body,
                                author=ra.author, published=ra.published,
                                modified=ra.modified_at, edition=ra.edition,
                                categories=ra.categories, canonical_url=ra.canonical_url),
                        capture_id=None, seen_at=seen,
                    )
            print(f"  archived {min(articles, start + 1000)}/{articles}", file=sys.stderr)
        archive.crawl_state.finish_run(run, status=COMPLETE, counts={"articles": articles},
                                       errors=[])
    print(f"  archive built in {time.monotonic() - started:.0f} s; indexing…", file=sys.stderr)
    report = update_index(data_dir / "archive.sqlite3", data_dir / "index", full=True)
    print(f"  {report.summary()}", file=sys.stderr)


def search_mix(corpus: Corpus, count: int, seed: int = 7) -> list[str]:
    """Return COUNT request paths: realistic searches built from the corpus's own words."""
    rng = random.Random(seed)
    sample = [corpus.article(rng.randrange(corpus.size)) for _ in range(min(300, corpus.size))]
    words = sorted({w.lower() for a in sample for w in WORD.findall(a.body + " " + a.title)})
    authors = sorted({a.author for a in sample})
    paths = []
    for _ in range(count):
        params: dict[str, str] = {}
        roll = rng.random()
        if roll < 0.1:
            article = rng.choice(sample)
            pair = WORD.findall(article.body)
            k = rng.randrange(max(1, len(pair) - 1))
            params["q"] = f'"{" ".join(pair[k:k + 2])}"'
        elif roll < 0.35:
            params["q"] = " ".join(rng.sample(words, 2))
        else:
            params["q"] = rng.choice(words)
        extra = rng.random()
        if extra < 0.12:
            params["auteur"] = rng.choice(authors)
        elif extra < 0.24:
            start = date(2016, 1, 1) + timedelta(days=rng.randrange(3000))
            params["du"] = start.isoformat()
            params["au"] = (start + timedelta(days=rng.choice((30, 365, 900)))).isoformat()
        elif extra < 0.36:
            params["tri"] = rng.choice(("date", "anciens"))
        elif extra < 0.44:
            params[rng.choice(("edition", "sauf_edition"))] = rng.choice(corpus.editions)
        elif extra < 0.50:
            params["categorie"] = rng.choice(CATEGORIES)
        if rng.random() < 0.1:
            params["page"] = "2"
        endpoint = "/api/search" if rng.random() < 0.2 else "/recherche"
        paths.append(f"{endpoint}?{urlencode(params)}")
    return paths


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_gunicorn(
    data_dir: Path, port: int, workers: int, threads: int, max_requests: int | None = None,
    behind_proxy: bool = False,
) -> subprocess.Popen[bytes]:
    """Start gunicorn with the repository's configuration, serving DATA_DIR on PORT; with
    MAX_REQUESTS, each worker is replaced after about that many requests; BEHIND_PROXY trusts
    one proxy's forwarded headers (ARCHIVE_TRUSTED_PROXIES=1, as behind the documented nginx)."""
    env = dict(os.environ, ARCHIVE_DATA_DIR=str(data_dir), ARCHIVE_WEB_WORKERS=str(workers),
               ARCHIVE_WEB_THREADS=str(threads), ARCHIVE_WEB_BIND=f"127.0.0.1:{port}")
    if behind_proxy:
        env["ARCHIVE_TRUSTED_PROXIES"] = "1"
    recycling = [] if max_requests is None else [
        "--max-requests", str(max_requests), "--max-requests-jitter", str(max_requests // 10)]
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
         "--chdir", str(REPO), "--access-logfile", "/dev/null", *recycling, "wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )


def wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    """Wait until /healthz answers 200 (the index opened in a worker)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy in time")


# The public host name of the documented nginx block (other names are refused there).
NGINX_HOST = "archive.example.org"


def nginx_cpu(workdir: Path) -> float:
    """Return the CPU seconds nginx's master and workers (running under WORKDIR) have used."""
    try:
        master = psutil.Process(int((workdir / "nginx.pid").read_text().strip()))
        total = 0.0
        for process in (master, *master.children()):
            times = process.cpu_times()
            total += times.user + times.system
        return float(total)
    except (OSError, ValueError, psutil.Error):
        return 0.0


@dataclass
class ClientStats:
    """What one client (or a process of clients) measured."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    cache_hits: int = 0
    proxy_hits: int = 0
    cpu_seconds: float = 0.0

    def add(self, other: ClientStats) -> None:
        """Add OTHER's measures to these."""
        self.latencies += other.latencies
        self.errors += other.errors
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.cache_hits += other.cache_hits
        self.proxy_hits += other.proxy_hits
        self.cpu_seconds += other.cpu_seconds


def chooser(paths: list[str], mix: str, seed: int) -> Callable[[], str]:
    """Return a function drawing the next path: uniformly, or by Zipf popularity (1/rank)."""
    rng = random.Random(seed)
    if mix == "uniform":
        return lambda: rng.choice(paths)
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(paths) + 1)))
    return lambda: rng.choices(paths, cum_weights=weights)[0]


class Connection:
    """A lean HTTP/1.1 keep-alive client: a request line out, the status, the headers the
    benchmark reads and the whole body in (asked for gzip, as every browser asks, and
    inflated, as a browser inflates it).

    The load generator shares the cores with the server, so its CPU counts against the
    server's: ``http.client`` parses every header block with the ``email`` package, and cost
    about twice this client's CPU per answer (0.53 against 0.25 ms at 100,000 articles), for
    the same bytes on the wire.
    """

    def __init__(self, port: int, host: str | None = None) -> None:
        self.port = port
        self.host = host or f"127.0.0.1:{port}"
        self.sock: socket.socket | None = None
        self.buffer = b""

    def get(self, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
        """Send GET PATH and return the status, the headers (lower-case names) and the body.

        Raises OSError (or ValueError for an answer that is not HTTP/1.1) on any failure.
        """
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port),
                                                 timeout=REQUEST_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                          "Accept-Encoding: gzip\r\n\r\n".encode("latin-1"))
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        version, status, _ = lines[0].split(b" ", 2)
        if not version.startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP answer: {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = self._chunked()
        else:
            body = self._exactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        if headers.get(b"content-encoding", b"").lower() == b"gzip":
            body = zlib.decompress(body, wbits=31)  # as a browser does (zlib.error: a failure)
        return int(status), headers, body

    def _receive(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self.buffer += data

    def _exactly(self, length: int) -> bytes:
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return body

    def _chunked(self) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buffer:
                self._receive()
            size_line, _, self.buffer = self.buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            parts.append(self._exactly(size))
            self._exactly(2)
            if not size:
                return b"".join(parts)

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None


# nginx's cache statuses of an answer it served from its cache (REVALIDATED: after a 304).
PROXY_HITS = (b"HIT", b"REVALIDATED", b"STALE", b"UPDATING")


def client(port: int, paths: list[str], deadline: float, seed: int, stats: ClientStats,
           mix: str = "uniform", host: str | None = None) -> None:
    """Send requests from PATHS one after another on a keep-alive connection until DEADLINE
    (with HOST as the Host header: the address's own by default)."""
    draw = chooser(paths, mix, seed)
    conn = Connection(port, host)
    try:
        while time.monotonic() < deadline:
            path = draw()
            started = time.perf_counter()
            try:
                status, headers, _ = conn.get(path)
                if headers.get(b"x-proxy-cache") in PROXY_HITS:
                    stats.proxy_hits += 1
                elif headers.get(b"x-archive-cache") == b"hit":
                    stats.cache_hits += 1
            except (OSError, ValueError, zlib.error):
                status = 0
                conn.close()
            stats.latencies.append((time.perf_counter() - started) * 1000)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if status != 200:
                stats.errors += 1
    finally:
        conn.close()


def client_process(port: int, paths: list[str], deadline: float, seeds: list[int], mix: str,
                   results: multiprocessing.Queue[ClientStats], host: str | None = None) -> None:
    """Run one client thread per seed until DEADLINE; put their summed stats on RESULTS."""
    cpu = time.process_time()
    stats = [ClientStats() for _ in seeds]
    threads = [threading.Thread(target=client, args=(port, paths, deadline, seed, s, mix, host))
               for seed, s in zip(seeds, stats, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline - time.monotonic() + REQUEST_TIMEOUT + 5)
    total = ClientStats()
    for s in stats:
        total.add(s)
    total.cpu_seconds = time.process_time() - cpu
    results.put(total)


def server_cpu(server: subprocess.Popen[bytes]) -> float:
    """Return the CPU seconds the gunicorn master and its workers have used so far (workers
    replaced meanwhile included: the master's count of its finished children)."""
    master = psutil.Process(server.pid)
    times = master.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for process in master.children():
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def worker_memory(server: subprocess.Popen[bytes]) -> list[tuple[float, float]]:
    """Return (RSS MB, USS MB) of each gunicorn worker."""
    found = []
    for child in psutil.Process(server.pid).children():
        try:
            info = child.memory_full_info()
            found.append((info.rss / 2**20, info.uss / 2**20))
        except psutil.Error:
            continue
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Return the FRACTION percentile of VALUES (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def warm_word_tables(port: int, requests: int = 6) -> None:
    """Wait until the workers have read the index's associated-words table (once per
    generation, in the background): a few concurrent API searches with mots=1, which wait.

    A worker lets only some of its threads wait for the table and answers the others 503
    at once (``archive.web.limits.word_table_waits``): those ask again until answered."""
    def ask() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            try:
                conn.request("GET", "/api/search?q=eau&mots=1&taille=1")
                response = conn.getresponse()
                response.read()
            finally:
                conn.close()
            if response.status != 503:
                return
            time.sleep(0.5)

    askers = [threading.Thread(target=ask) for _ in range(requests)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(timeout=600)


# The parts of an answer the profile names: a label and the functions (file suffix, name)
# whose cumulative time is that part's. Anything else is Flask, werkzeug and the rest.
PROFILE_PARTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("search: matching (postings, scores, typed forms)",
     (("indexer/search.py", "_match"), ("indexer/search.py", "_settled"))),
    ("search: facets (authors, editions, categories, months)",
     (("indexer/search.py", "_facets"),)),
    ("search: associated words", (("indexer/search.py", "_associated"),)),
    ("search: hits (stored fields, SQLite texts, snippets)", (("indexer/search.py", "_hits"),)),
)


def profile_pages(data_dir: Path, paths: list[str], pages: int) -> dict[str, Any]:
    """Answer PAGES requests drawn uniformly from PATHS in this process under cProfile, and
    return the CPU milliseconds per answer and each part's share of them."""
    import cProfile
    import pstats

    from archive.web import create_app

    app = create_app({"DATA_DIR": data_dir})
    client = app.test_client()
    client.get("/api/search?q=eau&mots=1&taille=1")  # the word table, read once
    for path in paths[:20]:
        client.get(path)
    app.extensions["archive"].pages.max_bytes = 0  # every answer drawn, none kept
    rng = random.Random(3)
    sample = [rng.choice(paths) for _ in range(pages)]
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    statuses: dict[int, int] = {}
    for path in sample:
        status = client.get(path).status_code
        statuses[status] = statuses.get(status, 0) + 1
    profiler.disable()
    cpu = time.process_time() - started
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    # The parts are timed by the profiler's clock (wall time, one thread, nearly all CPU);
    # they are shares of its total, applied to the CPU time measured beside it.
    timed = sum(entry[2] for entry in stats.values())

    def cumulative(suffix: str, name: str) -> float:
        return sum(ct for (file, _, function), (_, _, _, ct, _) in stats.items()
                   if function == name and file.endswith(suffix))

    def called_from(suffix: str, name: str, caller_suffix: str) -> float:
        total = 0.0
        for (file, _, function), (_, _, _, _, callers) in stats.items():
            if function == name and file.endswith(suffix):
                total += sum(entry[3] for (caller, _, _), entry in callers.items()
                             if caller.endswith(caller_suffix))
        return total

    shares: list[tuple[str, float]] = []
    for label, functions in PROFILE_PARTS:
        shares.append((label, sum(cumulative(*f) for f in functions)))
    searched = cumulative("indexer/search.py", "search")
    shares.append(("search: the rest (parsing, filters, order, suggestion)",
                   searched - sum(seconds for _, seconds in shares)))
    # The links: search_href, the builders of links that vary a field or two (search_hrefs,
    # article_hrefs) with the functions they return (href), and the feed, export and
    # comparison links (take_away); some are called from the template, whose share is then
    # given less them.
    link_functions = ("search_href", "search_hrefs", "article_hrefs", "href", "take_away")
    links_in_template = sum(called_from("archive/web/pages.py", name, ".html")
                            for name in link_functions)
    links = sum(cumulative("archive/web/pages.py", name) for name in link_functions)
    shares.append(("page: links (facets, timeline, pager, filters)", links))
    shares.append(("page: template (less the links it asks for)",
                   cumulative("flask/templating.py", "render_template") - links_in_template))
    shares.append(("API: JSON", cumulative("archive/web/serialize.py", "result_json")
                   + cumulative("flask/json/__init__.py", "jsonify")))
    shares.append(("HTTP caching (ETag, state of the archive)",
                   cumulative("archive/web/caching.py", "search_tag")))
    measured = sum(seconds for _, seconds in shares)
    shares.append(("Flask, werkzeug and the rest", timed - measured))
    return {
        "pages": pages,
        "cpu_ms_per_answer": round(cpu * 1000 / pages, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "shares": [(label, round(cpu * seconds / timed * 1000 / pages, 2),
                    round(100 * seconds / timed, 1)) for label, seconds in shares],
    }


@dataclass
class Measured:
    """What the load generator measured in one run, whichever generator it was."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    statuses: dict[int, int]
    cache_hits: int
    proxy_hits: int
    cpu_seconds: float
    wrapped: int = 0  # wrk: how many times a client's drawn sequence started again


def measured_by_python(stats: ClientStats, elapsed: float) -> Measured:
    """Return what the Python clients' STATS over ELAPSED seconds measured."""
    latencies = stats.latencies
    return Measured(
        requests=len(latencies), seconds=elapsed, p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95), p99_ms=percentile(latencies, 0.99),
        errors=stats.errors, statuses=stats.statuses, cache_hits=stats.cache_hits,
        proxy_hits=stats.proxy_hits, cpu_seconds=stats.cpu_seconds)


def measured_by_wrk(round_: WrkRound) -> Measured:
    """Return what a wrk ROUND measured."""
    statuses = dict(round_.statuses)
    sockets = sum(round_.socket_errors.values())
    if sockets:
        statuses[0] = sockets  # as the Python clients count a failed connection
    return Measured(
        requests=round_.requests + sockets, seconds=round_.seconds, p50_ms=round_.p50_ms,
        p95_ms=round_.p95_ms, p99_ms=round_.p99_ms, errors=round_.errors, statuses=statuses,
        cache_hits=round_.held, proxy_hits=round_.proxy_held, cpu_seconds=round_.cpu_seconds,
        wrapped=round_.wrapped)


@dataclass
class LoadRun:
    """What one run of the clients against the server measured."""

    measured: Measured
    server_cpu: float
    nginx_cpu: float
    processes: int
    memory_samples: list[list[tuple[float, float]]]


def python_clients(args: argparse.Namespace, target: int, paths: list[str],
                   host: str | None, sample: Callable[[], None]) -> tuple[Measured, int]:
    """Run the Python clients against port TARGET for the seconds asked, calling SAMPLE about
    once a second meanwhile; return what they measured and the processes they ran in."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[ClientStats] = context.Queue()
    processes = max(1, min(args.client_processes, args.clients))
    seeds = [list(range(args.clients))[n::processes] for n in range(processes)]
    deadline = time.monotonic() + args.seconds
    workers = [context.Process(target=client_process,
                               args=(target, paths, deadline, part, args.mix, results, host))
               for part in seeds]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    while time.monotonic() < deadline:
        sample()
        time.sleep(1.0)
    stats = ClientStats()
    for _ in workers:
        stats.add(results.get(timeout=REQUEST_TIMEOUT + 30))
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.join(timeout=30)
    return measured_by_python(stats, elapsed), processes


def wrk_clients(args: argparse.Namespace, target: int, paths: list[str], host: str,
                sample: Callable[[], None]) -> tuple[Measured, int]:
    """Run wrk against port TARGET for the seconds asked, each connection drawing the
    searches the Python client of its seed would, calling SAMPLE about once a second
    meanwhile; return what it measured and its threads."""
    threads = max(1, min(args.wrk_threads, args.clients))
    with tempfile.TemporaryDirectory(prefix="bench-web-wrk-") as folder:
        script = write_script(Path(folder), paths, lambda seed: chooser(paths, args.mix, seed),
                              args.clients, threads, args.seconds, host)
        cpu_before = children_cpu()
        wrk = start_round(script, target, args.clients, threads, args.seconds,
                          REQUEST_TIMEOUT)
        wait_for(wrk, args.seconds + REQUEST_TIMEOUT, sample)
        round_ = finish_round(wrk, cpu_before, grace=REQUEST_TIMEOUT + 30)
    return measured_by_wrk(round_), threads


def run_load(args: argparse.Namespace, data_dir: Path, paths: list[str]) -> LoadRun:
    """Start gunicorn (behind nginx with ``--nginx``) on DATA_DIR and run the clients on PATHS
    for the seconds asked; stop the servers and return what was measured."""
    port = free_port()
    server = start_gunicorn(data_dir, port, args.workers, args.threads, args.max_requests,
                            behind_proxy=args.nginx)
    nginx_dir = Path(tempfile.mkdtemp(prefix="bench-web-nginx-")) if args.nginx else None
    nginx_command: list[str] | None = None
    try:
        wait_healthy(port, server)
        warm_word_tables(port)
        host = None
        target = port
        if nginx_dir is not None:
            target = free_port()
            nginx_command = start_nginx(
                local_nginx_block(documented_nginx_block(), target, port), nginx_dir,
                processes="auto", connections=1024)
            host = NGINX_HOST
        warm = ClientStats()
        client(target, paths[:50], time.monotonic() + 5, 0, warm, host=host)
        cpu_before = server_cpu(server)
        nginx_before = nginx_cpu(nginx_dir) if nginx_dir is not None else 0.0
        memory_samples: list[list[tuple[float, float]]] = []

        def sample() -> None:
            memory_samples.append(worker_memory(server))

        if args.client == "wrk":
            measured, processes = wrk_clients(args, target, paths,
                                              host or f"127.0.0.1:{target}", sample)
        else:
            measured, processes = python_clients(args, target, paths, host, sample)
        served_cpu = server_cpu(server) - cpu_before
        proxy_cpu = nginx_cpu(nginx_dir) - nginx_before if nginx_dir is not None else 0.0
    finally:
        if nginx_command is not None:
            subprocess.run([*nginx_command, "-s", "stop"], capture_output=True, timeout=30)
        if nginx_dir is not None:
            shutil.rmtree(nginx_dir, ignore_errors=True)
        stop_server(server)
        if server.stderr:
            server.stderr.close()
    return LoadRun(measured, served_cpu, proxy_cpu, processes, memory_samples)


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    # By default the product's own settings, so the benchmark measures what ships.
    configured = load_settings()
    parser.add_argument("--workers", type=int, default=configured.web_workers)
    parser.add_argument("--threads", type=int, default=configured.web_threads)
    parser.add_argument("--reuse", type=Path, help="data directory to reuse (built there if empty)")
    parser.add_argument("--mix", choices=("uniform", "zipf"), default="uniform",
                        help="how clients pick searches from the pool (default: uniformly)")
    parser.add_argument("--pool", type=int, default=QUERY_POOL,
                        help=f"how many distinct searches the clients draw from ({QUERY_POOL:,})")
    parser.add_argument("--client", choices=("python", "wrk"), default="python",
                        help="the load generator: Python threads over several processes "
                             "(default), or Debian's wrk")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the Python clients are spread over (default 4)")
    parser.add_argument("--wrk-threads", type=int, default=2,
                        help="wrk's threads, its connections shared among them (default 2)")
    parser.add_argument("--profile", type=int, metavar="PAGES",
                        help="profile PAGES answers in this process instead (no gunicorn)")
    parser.add_argument("--max-requests", type=int, metavar="N",
                        help="replace each worker after about N requests (gunicorn's "
                             "max_requests; 20,000 in gunicorn.conf.py): what a new worker "
                             "costs the readers")
    parser.add_argument("--nginx", action="store_true",
                        help="put docs/operations.md's nginx (with its cache of search "
                             "answers) in front of gunicorn")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    temporary = None
    if args.reuse:
        data_dir = args.reuse
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        temporary = tempfile.mkdtemp(prefix="bench-web-")
        data_dir = Path(temporary)
    try:
        if current_build(data_dir / "index") is None:
            print(f"building {args.articles} articles in {data_dir}", file=sys.stderr)
            build_data_dir(data_dir, args.articles)
        with Archive.open(data_dir / "archive.sqlite3", readonly=True) as archive:
            articles = archive.reads.stats().articles
        paths = search_mix(Corpus(size=articles), args.pool)
        if args.profile:
            report = profile_pages(data_dir, paths, args.profile)
            if args.json:
                print(json.dumps(report))
                return
            print(f"web profile: {articles} articles, {args.profile} answers of the uniform mix "
                  f"in one process, {report['cpu_ms_per_answer']} ms of CPU per answer "
                  f"(under cProfile), statuses {report['statuses']}")
            print(f"{'part':<58}{'ms/answer':>10}{'share':>8}")
            for label, ms, share in report["shares"]:
                print(f"{label:<58}{ms:>10}{share:>7}%")
            return
        run = run_load(args, data_dir, paths)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)

    measured, processes = run.measured, run.processes
    served_cpu, proxy_cpu, memory_samples = run.server_cpu, run.nginx_cpu, run.memory_samples
    requests = max(1, measured.requests)
    peak_rss = max((rss for sample in memory_samples for rss, _ in sample), default=0.0)
    peak_uss = max((uss for sample in memory_samples for _, uss in sample), default=0.0)
    result = {
        "rps": round(measured.requests / measured.seconds, 1),
        "p50_ms": round(measured.p50_ms, 1),
        "p95_ms": round(measured.p95_ms, 1),
        "p99_ms": round(measured.p99_ms, 1),
        "errors": measured.errors,
        "worker_rss_mb": round(peak_rss, 1),
        "worker_uss_mb": round(peak_uss, 1),
        "requests": measured.requests,
        "cache_hit_rate": round(measured.cache_hits / requests, 3),
        "proxy_hit_rate": round(measured.proxy_hits / requests, 3),
        "server_cpu_ms_per_request": round((served_cpu + proxy_cpu) * 1000 / requests, 2),
        "nginx_cpu_ms_per_request": round(proxy_cpu * 1000 / requests, 2),
        "nginx": args.nginx,
        "client": args.client,
        "client_cpu_ms_per_request": round(measured.cpu_seconds * 1000 / requests, 2),
        "server_cpu_share": round((served_cpu + proxy_cpu) / measured.seconds / CORES, 3),
        "client_cpu_share": round(measured.cpu_seconds / measured.seconds / CORES, 3),
        "wrapped": measured.wrapped,
        "mix": args.mix,
        "client_processes": processes,
        "articles": articles,
        "clients": args.clients,
        "seconds": round(measured.seconds, 1),
        "workers": args.workers,
        "threads": args.threads,
        "max_requests": args.max_requests,
        "statuses": {str(k): v for k, v in sorted(measured.statuses.items())},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result))
        return
    generator = (f"wrk, {processes} threads" if args.client == "wrk"
                 else f"Python, {processes} processes")
    print(f"web benchmark: {articles} articles, {args.clients} clients ({generator}), "
          f"{measured.seconds:.1f} s, gunicorn {args.workers} workers x {args.threads} threads, "
          f"{args.mix} mix of {args.pool} searches" + (", behind nginx" if args.nginx else ""))
    print(f"{'measure':<24}{'value':>12}  target")
    rows = [
        ("requests/s", result["rps"], ">= 400"),
        ("p50 latency (ms)", result["p50_ms"], ""),
        ("p95 latency (ms)", result["p95_ms"], "<= 100"),
        ("p99 latency (ms)", result["p99_ms"], ""),
        ("errors", measured.errors, "0"),
        ("requests", measured.requests, ""),
        ("cache hits (share)", result["cache_hit_rate"], ""),
        ("nginx cache hits", result["proxy_hit_rate"], ""),
        ("server CPU ms/request", result["server_cpu_ms_per_request"], ""),
        ("  of which nginx", result["nginx_cpu_ms_per_request"], ""),
        ("client CPU ms/request", result["client_cpu_ms_per_request"], ""),
        ("server CPU (of 2 cores)", result["server_cpu_share"], ""),
        ("client CPU (of 2 cores)", result["client_cpu_share"], ""),
        ("worker RSS peak (MB)", result["worker_rss_mb"], ""),
        ("worker USS peak (MB)", result["worker_uss_mb"], ""),
    ]
    for name, value, target in rows:
        print(f"{name:<24}{value:>12}  {target}")
    print(f"statuses: {result['statuses']}; load average {result['load_average']}")
    if measured.wrapped:
        print(f"wrk: the clients' drawn sequences started again {measured.wrapped} times")


if __name__ == "__main__":
    main()
