"""Parser CPU per article: ``parse_page`` on replica article pages, per markup variant.

    .venv/bin/python -m bench.parse --articles 450 [--json]

Pages are rendered by the replica's theme (every variant, with its furniture: navigation,
sidebar, share buttons, "Lire aussi", comments), then each is parsed ``--repeat`` times and
the best CPU time kept. The gold set (tests/gold/) is timed too. Target: a few ms per
article, well under the crawl's 10 ms budget for parse + store.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from archive.parser import parse_page
from archive.replica.corpus import Corpus
from archive.replica.theme import Link, Site, article_page

GOLD = Path(__file__).resolve().parent.parent / "tests" / "gold"


def _best_cpu_ms(body: bytes, url: str, content_type: str | None, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        parse_page(body, url, content_type)
        best = min(best, time.process_time() - start)
    return best * 1000


def run(articles: int, repeat: int) -> dict[str, object]:
    """Time the parser over ARTICLES replica pages and the gold set; return the figures."""
    corpus = Corpus(size=articles, seed=11)
    by_variant: dict[str, list[float]] = defaultdict(list)
    sizes: list[int] = []
    words: list[int] = []
    for i in range(articles):
        article = corpus.article(i)
        site = Site(base_url="http://127.0.0.1:8001", edition=article.edition,
                    recent=[Link("Un autre article", "http://127.0.0.1:8001/2020/01/01/a/")])
        related = [Link("Un article lié", "http://127.0.0.1:8001/2020/01/02/b/")]
        body = article_page(article, site, related=related).encode()
        sizes.append(len(body))
        words.append(len(article.body.split()))
        by_variant[article.variant].append(
            _best_cpu_ms(body, "http://127.0.0.1:8001" + article.path, None, repeat))
    everything = [ms for values in by_variant.values() for ms in values]
    expected = json.loads((GOLD / "expected.json").read_text("utf-8"))
    gold = [
        _best_cpu_ms((GOLD / name).read_bytes(), spec["url"], spec.get("content_type"), repeat)
        for name, spec in sorted(expected.items()) if not spec.get("not_article")
    ]
    return {
        "articles": articles,
        "median_words": statistics.median(words),
        "median_page_bytes": statistics.median(sizes),
        "cpu_ms_per_article_mean": statistics.fmean(everything),
        "cpu_ms_per_article_median": statistics.median(everything),
        "cpu_ms_per_article_p95": sorted(everything)[int(len(everything) * 0.95) - 1],
        "cpu_ms_by_variant": {name: statistics.fmean(values)
                              for name, values in sorted(by_variant.items())},
        "gold_pages": len(gold),
        "gold_cpu_ms_mean": statistics.fmean(gold),
    }


def main() -> None:
    """Parse the command line, run the benchmark, print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    figures = run(options.articles, options.repeat)
    if options.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            for name, ms in value.items():
                print(f"  {key}[{name}]".ljust(44) + f"{ms:8.2f}")
        elif isinstance(value, float):
            print(key.ljust(44) + f"{value:8.2f}")
        else:
            print(key.ljust(44) + f"{value:>8}")


if __name__ == "__main__":
    main()
