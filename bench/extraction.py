"""Body extraction on real pages nobody here wrote, side by side with trafilatura.

    .venv/bin/python -m bench.extraction --corpus /path/to/article-extraction-benchmark [--json]

CORPUS is a local copy of the public article-extraction-benchmark (GitHub
scrapinghub/article-extraction-benchmark): ``ground-truth.json`` (per page id: ``url`` and
``articleBody``) and ``html/<id>.html.gz``. Its pages are never part of this repository.

Each page is given to ``parse_page`` and, when installed (the ``bench`` extra), to
trafilatura in the same run. Scores are the benchmark's own: per page, true/false positives
and false negatives over bags of words and over 4-word shingles (``\\w+`` tokens), normalised
so that long pages weigh no more than short ones; precision and recall are averaged over the
pages and F1 is taken from the two averages. A page ``parse_page`` rejects as not an article
scores an empty body; any other exception is a crash. Times are CPU milliseconds per page,
the least of ``--repeat`` runs (the machine's other work only ever adds time).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive.errors import NotAnArticle
from archive.parser import parse_page

_TOKEN = re.compile(r"\w+")
SHINGLE_WORDS = 4


@dataclass
class Extractor:
    """One extractor's results over the corpus."""

    name: str
    extract: Callable[[bytes, str], tuple[str, str | None]]
    words: list[tuple[float, float, float]] = field(default_factory=list)
    shingles: list[tuple[float, float, float]] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    dates: list[str | None] = field(default_factory=list)


def _counts(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    if n == 1:
        return Counter((token,) for token in tokens)
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))
                   if tokens[i:i + n])


def matching(true: str, predicted: str, n: int) -> tuple[float, float, float]:
    """Return the normalised (tp, fp, fn) of PREDICTED against TRUE over N-word shingles."""
    expected = _counts(_TOKEN.findall(true), n)
    found = _counts(_TOKEN.findall(predicted), n)
    tp = float(sum((expected & found).values()))
    fp = float(sum((found - expected).values()))
    fn = float(sum((expected - found).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(results: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Return (precision, recall, F1): per-page means, F1 from the two means."""
    def ratio(part: float, other: float, tp: float) -> float:
        if part == other == 0:
            return 1.0
        return tp / (tp + part) if tp + part else 0.0

    precisions = [ratio(fp, fn, tp) for tp, fp, fn in results if tp + fp > 0]
    recalls = [ratio(fn, fp, tp) for tp, fp, fn in results if tp + fn > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _ours(body: bytes, url: str) -> tuple[str, str | None]:
    article = parse_page(body, url, "text/html")
    return article.body, article.published.isoformat() if article.published else None


def _trafilatura() -> Callable[[bytes, str], tuple[str, str | None]] | None:
    try:
        import trafilatura
    except ImportError:
        return None

    def extract(body: bytes, url: str) -> tuple[str, str | None]:
        text = trafilatura.extract(body, url=url, include_comments=False)
        return str(text or ""), None

    return extract


def _htmldate() -> Callable[[bytes, str], tuple[str, str | None]] | None:
    try:
        from htmldate import find_date
    except ImportError:
        return None

    def extract(body: bytes, url: str) -> tuple[str, str | None]:
        found = find_date(body, url=url, original_date=True)
        return "", str(found) if found else None

    return extract


def run(corpus: Path, repeat: int = 1) -> list[Extractor]:
    """Run every available extractor over CORPUS (each page REPEAT times, the least CPU time
    kept) and return their results."""
    truth = json.loads((corpus / "ground-truth.json").read_text("utf-8"))
    extractors = [Extractor("archive.parser", _ours)]
    other = _trafilatura()
    if other is not None:
        extractors.append(Extractor("trafilatura", other))
    dates = _htmldate()
    if dates is not None:
        extractors.append(Extractor("htmldate", dates))
    for key, expected in sorted(truth.items()):
        body = gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes())
        true = expected.get("articleBody") or ""
        for extractor in extractors:
            best = float("inf")
            for attempt in range(repeat):
                start = time.process_time()
                found: str | None = None
                try:
                    text, found = extractor.extract(body, expected["url"])
                except NotAnArticle as exc:
                    text = ""
                    if not attempt:
                        extractor.rejected.append(f"{key[:12]} {exc}")
                except Exception as exc:  # noqa: BLE001 - a benchmark counts crashes
                    text = ""
                    if not attempt:
                        extractor.crashed.append(f"{key[:12]} {type(exc).__name__}: {exc}")
                best = min(best, time.process_time() - start)
            extractor.cpu_ms.append(best * 1000)
            extractor.dates.append(found)
            extractor.words.append(matching(true, text, 1))
            extractor.shingles.append(matching(true, text, SHINGLE_WORDS))
    return extractors


def date_agreement(ours: Extractor, other: Extractor) -> tuple[int, int]:
    """Return on how many pages both found a date, and on how many of those they agree."""
    both = [(a, b) for a, b in zip(ours.dates, other.dates, strict=True) if a and b]
    return len(both), sum(a == b for a, b in both)


def _summary(extractor: Extractor) -> dict[str, object]:
    words = scores(extractor.words)
    shingles = scores(extractor.shingles)
    return {
        "pages": len(extractor.cpu_ms),
        "words_precision": round(words[0], 3), "words_recall": round(words[1], 3),
        "words_f1": round(words[2], 3),
        "shingles_precision": round(shingles[0], 3), "shingles_recall": round(shingles[1], 3),
        "shingles_f1": round(shingles[2], 3),
        "rejected": len(extractor.rejected), "crashes": len(extractor.crashed),
        "dates_found": sum(1 for found in extractor.dates if found),
        "median_ms": round(statistics.median(extractor.cpu_ms), 2),
        "p90_ms": round(statistics.quantiles(extractor.cpu_ms, n=10)[-1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the comparison table (or JSON) for the corpus given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="local copy of the article-extraction-benchmark")
    parser.add_argument("--repeat", type=int, default=3,
                        help="parse each page this many times, keep the least CPU time")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--verbose", action="store_true",
                        help="list rejected and crashed pages")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").is_file():
        print(f"error: {args.corpus} holds no ground-truth.json", file=sys.stderr)
        return 2
    extractors = run(args.corpus, max(1, args.repeat))
    summaries: dict[str, dict[str, object]] = {
        extractor.name: _summary(extractor) for extractor in extractors
    }
    by_name = {extractor.name: extractor for extractor in extractors}
    if "htmldate" in by_name:
        both, agree = date_agreement(by_name["archive.parser"], by_name["htmldate"])
        summaries["htmldate"]["dates_both_found"] = both
        summaries["htmldate"]["dates_agree"] = agree
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        columns = ("words P/R/F1", "4-gram P/R/F1", "rejected", "crashes", "dates found",
                   "ms median", "ms p90")
        print(f"{'extractor':16}" + "".join(f"{name:>18}" for name in columns))
        for name, row in summaries.items():
            body = name != "htmldate"
            cells = (
                f"{row['words_precision']}/{row['words_recall']}/{row['words_f1']}"
                if body else "-",
                f"{row['shingles_precision']}/{row['shingles_recall']}/{row['shingles_f1']}"
                if body else "-",
                row["rejected"], row["crashes"],
                row["dates_found"] if name != "trafilatura" else "-",
                row["median_ms"], row["p90_ms"],
            )
            print(f"{name:16}" + "".join(f"{cell!s:>18}" for cell in cells))
        if "htmldate" in summaries:
            row = summaries["htmldate"]
            print(f"dates: both found {row['dates_both_found']}, "
                  f"archive.parser and htmldate agree on {row['dates_agree']}")
    if args.verbose:
        for extractor in extractors:
            for line in extractor.rejected + extractor.crashed:
                print(f"{extractor.name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
