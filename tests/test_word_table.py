"""A generation's word table, joined from its segments' words, is the table the words define.

``indexer.associated._combine`` joins the segments' word files a segment at a time into arrays
of the table's final size (its load's peak at a million articles: ``docs/operations.md``). The
table it makes is checked here against one written the plain way, document after document, and
the loader thread gives the load's freed memory back as soon as the table is read.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_archive import build_archive

import indexer.generations
from indexer import associated
from indexer.associated import SegmentWords, WordTable
from indexer.search import SearchService


def random_segment(rng: random.Random, vocabulary: list[str], docs: int) -> SegmentWords:
    """A segment of DOCS documents, each holding distinct words of a part of VOCABULARY."""
    words = sorted(rng.sample(vocabulary, rng.randrange(1, len(vocabulary))))
    rows = [sorted(rng.sample(range(len(words)), rng.randrange(0, min(len(words), 12) + 1)))
            for _ in range(docs)]
    starts = np.cumsum([0] + [len(row) for row in rows]).astype(np.int64)
    codes = np.array([code for row in rows for code in row], dtype=np.uint16)
    return SegmentWords(words, starts, codes)


def plain_table(parts: list[tuple[SegmentWords, int, Any]], doc_count_all: int,
                doc_count: int) -> tuple[list[str], list[int], list[list[str]]]:
    """The table written plainly: kept words, their live frequencies, each row's kept words."""
    rows: list[list[str]] = []
    live: list[bool] = []
    for found, base, deleted in parts:
        count = min(len(found.starts) - 1, max(0, doc_count_all - base))
        for doc in range(count):
            codes = found.codes[found.starts[doc]:found.starts[doc + 1]].tolist()
            rows.append([found.words[code] for code in codes])
            live.append(doc not in deleted)
    frequency: dict[str, int] = {}
    for row, alive in zip(rows, live, strict=True):
        for word in row:
            frequency[word] = frequency.get(word, 0) + alive
    ceiling = max(associated.MIN_DOCS, int(associated.MAX_SHARE * max(doc_count, 1)))
    kept = sorted(w for w, n in frequency.items() if associated.MIN_DOCS <= n <= ceiling)
    rows = rows[:doc_count_all] + [[] for _ in range(doc_count_all - len(rows))]
    return kept, [frequency[w] for w in kept], [[w for w in row if w in kept] for row in rows]


def table_rows(table: WordTable) -> list[list[str]]:
    """Each document's words in TABLE, in the order the table holds them."""
    return [[table.words[c] for c in table.codes[table.starts[d]:table.starts[d + 1]].tolist()]
            for d in range(len(table.starts) - 1)]


@pytest.mark.parametrize("seed", range(6))
def test_joined_segments_give_the_table_their_words_define(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = [f"mot{n:03d}" for n in range(60)]
    parts: list[tuple[SegmentWords, int, Any]] = []
    base = 0
    for _ in range(rng.randrange(1, 5)):
        found = random_segment(rng, vocabulary, rng.randrange(0, 40))
        count = len(found.starts) - 1
        deleted = set(rng.sample(range(count), rng.randrange(0, count + 1) // 3))
        parts.append((found, base, deleted))
        base += count
    live = base - sum(len(d) for _, _, d in parts)
    # The generation may count fewer documents than its segments hold (a reader's snapshot),
    # or more.
    for doc_count_all in (base, max(0, base - 5), base + 3):
        table = associated._combine(parts, doc_count_all, live)
        words, frequencies, rows = plain_table(parts, doc_count_all, live)
        assert table.words == words
        assert table.frequencies.dtype == np.int64 and table.frequencies.tolist() == frequencies
        assert table.starts.dtype == np.int64 and len(table.starts) == doc_count_all + 1
        assert table.codes.dtype == np.uint16
        assert table_rows(table) == rows
        assert table.doc_count == live


def test_a_table_of_more_than_65536_words_holds_32_bit_codes() -> None:
    words = [f"m{n:05d}" for n in range(70_000)]
    # Every word in three documents of six: each document holds half the words.
    rows = [list(range(i % 2, len(words), 2)) for i in range(6)]
    starts = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    found = SegmentWords(words, starts, np.array([c for r in rows for c in r], dtype=np.uint32))
    table = associated._combine([(found, 0, set())], 6, 20)
    assert table.codes.dtype == np.uint32 and len(table.words) == 70_000
    assert table_rows(table) == [[words[c] for c in r] for r in rows]


def test_the_word_table_s_load_gives_its_freed_memory_back_once_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = build_archive(tmp_path, 30)
    steps: list[str] = []
    read = indexer.generations.load_word_table

    def load(*args: Any, **kwargs: Any) -> Any:
        table = read(*args, **kwargs)
        steps.append("read")
        return table

    monkeypatch.setattr(indexer.generations, "load_word_table", load)
    monkeypatch.setattr(indexer.generations, "give_back", lambda: steps.append("given back"))
    service = SearchService.over_archive(built.data_dir / "index",
                                         built.data_dir / "archive.sqlite3")
    try:
        assert service.search("marché", associated=True).associated
        assert steps == ["read", "given back"]
    finally:
        service.close()
