"""The search benchmark's comparison with Tantivy runs end to end on a small corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is scripts, not an installed package
KINDS = ("common", "rare", "two_words", "phrase", "exact_phrase", "prefix", "author_filter",
         "date_sorted", "four_words")


def _require_tantivy() -> None:
    """Skip without tantivy-py; fail instead with ARCHIVE_REQUIRE_TANTIVY=1 (CI)."""
    try:
        import tantivy  # noqa: F401
    except ImportError:
        message = "tantivy-py is not installed (pip install -e '.[bench]')"
        if os.environ.get("ARCHIVE_REQUIRE_TANTIVY") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_TANTIVY=1 forbids skipping")
        pytest.skip(message)


def test_compare_tantivy_reports_every_kind_for_the_three_engines(tmp_path: Path) -> None:
    _require_tantivy()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--articles", "300",
         "--queries", "3", "--compare", "tantivy", "--json", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    tantivy = report["tantivy"]
    assert tantivy["build_s"] > 0 and tantivy["index_mb"] > 0
    assert report["fts5_mb"] > 0 and report["index_mb"] > 0
    assert report["segments"] >= 1  # each segment costs every query a read per term
    assert len(report["load_average"]) == 3  # figures on a shared machine carry their load
    for kind in KINDS:
        row = report["queries"][kind]
        for engine in ("", "fts5_", "tantivy_"):
            assert row[f"{engine}p50_ms"] > 0 and row[f"{engine}p95_ms"] >= row[f"{engine}p50_ms"]
    # The queries are taken from the corpus itself: every engine finds something for a
    # common word, and a rare word's articles are few for both.
    assert report["queries"]["common"]["median_total"] > 0
    assert report["queries"]["common"]["tantivy_median_total"] > 0
    assert 0 < report["queries"]["rare"]["tantivy_median_total"] <= 10
    # A prefix is the exact-form words starting with its letters on both sides: the same
    # articles.
    prefix = report["queries"]["prefix"]
    assert prefix["tantivy_median_total"] == prefix["median_total"] > 0
    # Quotations are copied from the articles as written, elisions and all: both sides find
    # the same articles.
    for kind in ("exact_phrase", "common_quote"):
        row = report["queries"][kind]
        assert row["tantivy_median_total"] == row["median_total"] > 0
    # Tantivy's page marks the words each query asked in its snippets, as ours does: quoted
    # words and prefixes in the exact-form fields they were asked of.
    from bench.tantivy_side import TantivySearch

    side = TantivySearch(tmp_path / "tantivy")
    marked = set()
    for query in json.loads((tmp_path / "queries.json").read_text(encoding="utf-8")):
        total, snippets = side.page(query)
        if total:
            assert any("<b>" in html for html in snippets), query
            marked.add(query["kind"])
    # (at 300 articles an author's filtered word finds nothing on either side)
    assert marked >= {"common", "rare", "phrase", "exact_phrase", "proximity", "prefix"}


def test_without_fts5_leaves_sqlite_out_and_says_so_in_the_table(tmp_path: Path) -> None:
    # At a million articles FTS5's build alone takes tens of minutes: the benchmark can leave
    # it out, and its columns then read "-" rather than figures it did not measure.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--articles", "300",
         "--queries", "3", "--without-fts5", "--json", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert not (tmp_path / "fts5.sqlite3").exists()
    assert report["fts5_build_s"] is None and report["fts5_mb"] is None
    for kind in KINDS:
        row = report["queries"][kind]
        assert row["fts5_p50_ms"] is None and row["fts5_p95_ms"] is None
        assert row["p50_ms"] > 0 and row["p95_ms"] >= row["p50_ms"]
    table = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--articles", "300",
         "--queries", "3", "--without-fts5", "--reuse", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert table.returncode == 0, table.stderr
    assert "FTS5 - s" in table.stdout
    common = next(line for line in table.stdout.splitlines() if line.startswith("common"))
    assert common.split()[3:5] == ["-", "-"]  # FTS5's p50 and p95 columns


def test_a_quotation_holds_its_words_as_the_article_writes_them() -> None:
    # A quotation copied from an article keeps an elided article or pronoun joined to its
    # word (as a reader types it), where the words alone would ask "l Intérieur".
    from bench.search import _LETTERS, _as_written

    body = "Selon l’Intérieur, aujourd’hui il a dit qu'il viendra jusqu’à Dakar."
    words = list(_LETTERS.finditer(body))
    assert [w.group() for w in words[:5]] == ["Selon", "l", "Intérieur", "aujourd", "hui"]
    assert _as_written(body, words[0:2]) == ["Selon", "l’Intérieur"]
    assert _as_written(body, words[1:3]) == ["l’Intérieur"]
    assert _as_written(body, words[2:4]) == ["l’Intérieur", "aujourd’hui"]
    assert _as_written(body, words[5:8]) == ["il", "a", "dit"]
    assert _as_written(body, words[7:9]) == ["dit", "qu'il"]
    assert _as_written(body, words[-2:]) == ["jusqu’à", "Dakar"]
