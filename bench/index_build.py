"""Benchmark the indexer: analyzer speed, full rebuild and a 100-article incremental update.

    .venv/bin/python -m bench.index_build --articles 3000 [--json]

Articles come from the replica's corpus (about 500 words each), saved in a temporary archive.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.models import Article
from archive.replica.corpus import Corpus
from archive.store import Archive
from indexer.analysis import french_analyzer, spelling_analyzer
from indexer.location import current_build
from indexer.update import update_index


def _article(corpus: Corpus, i: int) -> Article:
    item = corpus.article(i)
    return Article(url=item.canonical_url, title=item.title, body=item.body, author=item.author,
                   published=item.published, edition=item.edition, categories=item.categories)


def _fill(database: Path, corpus: Corpus, start: int, stop: int) -> None:
    seen = datetime.now(UTC)
    with Archive.open(database) as archive:
        for i in range(start, stop):
            archive.articles.save_article(_article(corpus, i), capture_id=None, seen_at=seen)


def _cpu_seconds() -> float:
    # Writer processes are joined before the commit returns, so they count as children.
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _tokens_per_second(texts: list[str]) -> dict[str, float]:
    rates = {}
    for name, analyzer in (("french", french_analyzer()), ("spelling", spelling_analyzer())):
        started = time.perf_counter()
        count = sum(1 for text in texts for _ in analyzer(text, positions=True, chars=True))
        rates[name] = count / (time.perf_counter() - started)
    return rates


def run(articles: int) -> dict[str, Any]:
    """Return the measured figures for an archive of ARTICLES articles."""
    corpus = Corpus(size=articles + 100)
    results: dict[str, Any] = {"articles": articles}
    results["tokens_per_second"] = _tokens_per_second(
        [corpus.article(i).body for i in range(min(articles, 300))])
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        database, index_dir = Path(tmp) / "archive.sqlite3", Path(tmp) / "index"
        _fill(database, corpus, 0, articles)
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = update_index(database, index_dir, full=True, copies=False)
        seconds = time.perf_counter() - started
        results["full_cpu_seconds"] = _cpu_seconds() - cpu
        results["full_seconds"] = seconds
        results["full_docs_per_second"] = report.documents / seconds
        build = current_build(index_dir) or index_dir
        results["index_mb"] = sum(f.stat().st_size for f in build.rglob("*") if f.is_file()) / 1e6
        _fill(database, corpus, articles, articles + 100)
        started = time.perf_counter()
        report = update_index(database, index_dir, copies=False)
        results["incremental_100_seconds"] = time.perf_counter() - started
        results["incremental_added"] = report.added
    return results


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = run(args.articles)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    rates = results["tokens_per_second"]
    rows = [
        ("articles", f"{results['articles']:,}"),
        ("analyzer french (tokens/s)", f"{rates['french']:,.0f}"),
        ("analyzer spelling (tokens/s)", f"{rates['spelling']:,.0f}"),
        ("full rebuild (s)", f"{results['full_seconds']:.1f}"),
        ("full rebuild (docs/s)", f"{results['full_docs_per_second']:.0f}"),
        ("full rebuild, CPU (s, all processes)", f"{results['full_cpu_seconds']:.1f}"),
        ("index size (MB)", f"{results['index_mb']:.1f}"),
        ("100 new articles, incremental (s)", f"{results['incremental_100_seconds']:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")


if __name__ == "__main__":
    main()
