"""Benchmark the archive store: CPU per article for store_capture + save_article, sizes, memory.

    python bench/store.py                 # 10,000 synthetic articles, batches of 50
    python bench/store.py --articles 2000 --batch 1 --json

Prints one table (or JSON): CPU milliseconds per article over the whole run and over its last
tenth (flat when nothing grows with the corpus), the same for an unchanged re-save of every
article (an incremental crawl), the SQLite and WARC sizes, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil

from archive.models import Article, Capture
from archive.store import Archive

WORDS = ("le la les un une des du de et à en pour sur dans avec par plus pas que qui "
         "gouvernement population marché eau riz école santé route élection jeunesse "
         "village quartier maire ministre président citoyens association femmes paysans "
         "récolte saison pluie sécheresse prix hausse baisse crise solution projet "
         "développement Dakar Thiès Ziguinchor Abidjan Bamako Lomé Cotonou").split()
AUTHORS = [f"Auteur{n} Nom{n % 37}" for n in range(400)]
FURNITURE = "<nav>" + "<a href='/category/x/'>Rubrique</a>" * 40 + "</nav>" + (
    "<aside><h3>Articles récents</h3>" + "<li><a href='/2024/01/01/x/'>Titre récent</a></li>" * 20
    + "</aside>")


def _synthetic(i: int) -> tuple[Article, Capture]:
    rng = random.Random(i)
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 110)))
                  for _ in range(rng.randint(4, 9))]
    published = date(2020, 1, 1) + timedelta(days=rng.randint(0, 1800))
    path = f"/{published:%Y/%m/%d}/article-{i}/"
    author = rng.choice(AUTHORS)
    html = (f"<html><head><title>Article {i}</title></head><body>{FURNITURE}<article>"
            f"<h1>Article {i}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
            + f"<p>Article écrit par : {author}</p></article>{FURNITURE}</body></html>")
    fetched = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(seconds=i)
    capture = Capture(url=f"http://127.0.0.1:8001{path}", status=200,
                      headers=(("Content-Type", "text/html; charset=UTF-8"),
                               ("ETag", f'"{i}"')),
                      body=html.encode(), fetched_at=fetched)
    article = Article(url=capture.url, title=f"Article {i}", body="\n\n".join(paragraphs),
                      author=author, published=published, edition="sn",
                      categories=(rng.choice(WORDS),),
                      canonical_url=f"https://sn.notrecontinent.com{path}")
    return article, capture


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(articles: int, batch: int, directory: Path) -> dict[str, float]:
    """Store ARTICLES synthetic articles in BATCH-sized transactions; return the figures."""
    process = psutil.Process()
    per_article: list[float] = []
    resave: list[float] = []
    rss_tenth = 0.0
    with Archive.open(directory / "archive.sqlite3") as archive:
        for start in range(0, articles, batch):
            pairs = [_synthetic(i) for i in range(start, min(start + batch, articles))]
            began = time.process_time()
            with archive.transaction():
                for article, capture in pairs:
                    capture_id = archive.captures.store_capture(capture)
                    archive.articles.save_article(article, capture_id=capture_id,
                                         seen_at=capture.fetched_at)
            per_article.extend([(time.process_time() - began) / len(pairs)] * len(pairs))
            if start < articles // 10 <= start + batch:
                rss_tenth = process.memory_info().rss
        rss_end = process.memory_info().rss
        seen = datetime(2024, 7, 1, tzinfo=UTC)
        for start in range(0, articles, batch):
            pairs = [_synthetic(i) for i in range(start, min(start + batch, articles))]
            began = time.process_time()
            with archive.transaction():
                for article, _ in pairs:
                    archive.articles.save_article(article, capture_id=None, seen_at=seen)
            resave.extend([(time.process_time() - began) / len(pairs)] * len(pairs))
    tenth = max(1, articles // 10)
    return {
        "articles": articles,
        "batch": batch,
        "ms_cpu_per_article": 1000 * sum(per_article) / len(per_article),
        "ms_cpu_per_article_last_tenth": 1000 * sum(per_article[-tenth:]) / tenth,
        "ms_cpu_per_unchanged_resave": 1000 * sum(resave) / len(resave),
        "db_mb": _size(directory) / 1e6 - _size(directory / "warc") / 1e6,
        "warc_mb": _size(directory / "warc") / 1e6,
        "rss_mb_at_tenth": rss_tenth / 1e6,
        "rss_mb_at_end": rss_end / 1e6,
        "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                           rss_end) / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50,
                        help="saves per transaction (the crawler's batch size)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as directory:
        figures = run(args.articles, args.batch, Path(directory))
    if args.json:
        print(json.dumps(figures))
        return 0
    print("| figure | value |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value:,.2f} |" if isinstance(value, float) else
              f"| {name} | {value:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
