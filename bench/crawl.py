"""Crawl cost per article: parse + store CPU, whole-process CPU, and memory as the corpus grows.

    python bench/crawl.py --articles 2000          # a table
    python bench/crawl.py --articles 10000 --json  # {"articles", "cpu_ms_per_article", ...}

The replica runs in a separate process (``python -m archive replica``), so its CPU is not
counted; the crawl runs here with no politeness delay into a temporary data directory.
``cpu_ms_per_article`` is the CPU spent parsing pages and writing the archive (captures,
articles, crawl state), per article; the process figure adds discovery, HTTP and threads.
Target: parse + store under 10 ms per article, memory flat from 25 % to 100 % of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from archive.config import load_settings
from archive.crawler import crawl

TARGET_MS = 10.0


def start_replica(articles: int) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the replica in its own process; return it and the base URL of each edition."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "replica", "--articles", str(articles), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None
    urls: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(urls) < 3:
        line = process.stdout.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) == 2 and parts[1].startswith("http://"):
            urls.append(parts[1])
    if not urls:
        process.kill()
        process.wait()
        raise SystemExit("the replica did not start")
    return process, urls


def measure(articles: int) -> dict[str, object]:
    """Crawl a replica of ARTICLES articles twice and return the figures."""
    replica, urls = start_replica(articles)
    me = psutil.Process()
    samples: dict[int, float] = {}

    def progress(done: int, known: int) -> None:
        for percent in (25, 50, 100):
            if percent not in samples and known and done * 100 >= known * percent:
                samples[percent] = me.memory_info().rss / 2**20

    try:
        with tempfile.TemporaryDirectory(prefix="bench-crawl-") as data_dir:
            settings = load_settings(environ={}, data_dir=Path(data_dir), crawl_delay=0.0)
            cpu_before, wall_before = time.process_time(), time.monotonic()
            report = crawl(urls, settings, progress=progress)
            cpu_first = time.process_time() - cpu_before
            wall_first = time.monotonic() - wall_before
            cpu_before, wall_before = time.process_time(), time.monotonic()
            second = crawl(urls, settings)
            cpu_second = time.process_time() - cpu_before
            wall_second = time.monotonic() - wall_before
    finally:
        replica.send_signal(signal.SIGTERM)
        try:
            replica.wait(timeout=15)
        except subprocess.TimeoutExpired:
            replica.kill()
            replica.wait()
    archived = report.counts["new"]
    per = max(archived, 1)
    parse_ms = report.cpu_seconds["parse"] * 1000 / per
    store_ms = report.cpu_seconds["store"] * 1000 / per
    return {
        "articles": archived,
        "cpu_ms_per_article": round(parse_ms + store_ms, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "parse_ms_per_article": round(parse_ms, 3),
        "store_ms_per_article": round(store_ms, 3),
        "process_cpu_ms_per_article": round(cpu_first * 1000 / per, 3),
        "rss_mb_at": {f"{percent}%": round(mb, 1) for percent, mb in sorted(samples.items())},
        "first_run_seconds": round(wall_first, 1),
        "errors": report.counts["errors"],
        "second_run_seconds": round(wall_second, 1),
        "second_run_cpu_ms_per_article": round(cpu_second * 1000 / per, 3),
        "second_run_fetched": second.counts["fetched"] + second.counts["not_modified"],
    }


def main() -> None:
    """Run the benchmark and print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    os.environ.pop("ARCHIVE_DATA_DIR", None)
    figures = measure(options.articles)
    if options.json:
        print(json.dumps(figures))
        return
    verdict = "ok" if float(str(figures["cpu_ms_per_article"])) < TARGET_MS else "OVER TARGET"
    rows = [
        ("articles archived", figures["articles"]),
        ("parse + store CPU per article (ms)", f"{figures['cpu_ms_per_article']}  "
                                               f"(target < {TARGET_MS:g}: {verdict})"),
        ("  parse (ms)", figures["parse_ms_per_article"]),
        ("  store (ms)", figures["store_ms_per_article"]),
        ("whole process CPU per article (ms)", figures["process_cpu_ms_per_article"]),
        ("RSS at 25% / 50% / 100% (MB)", " / ".join(
            str(v) for v in dict(figures["rss_mb_at"]).values())),  # type: ignore[call-overload]
        ("peak RSS (MB)", figures["peak_rss_mb"]),
        ("first run (s, no delay)", figures["first_run_seconds"]),
        ("page errors", figures["errors"]),
        ("second run (s)", figures["second_run_seconds"]),
        ("second run: article requests", figures["second_run_fetched"]),
        ("second run CPU per article (ms)", figures["second_run_cpu_ms_per_article"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
