"""A full rebuild's writer buffer follows the machine's free memory unless the operator sets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import load_settings
from archive.errors import InvalidInput
from indexer import build_budget


def meminfo(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(text, encoding="ascii")
    return path


def test_available_memory_is_read_from_meminfo(tmp_path: Path) -> None:
    path = meminfo(tmp_path, "MemTotal:       24000000 kB\nMemFree:         1000 kB\n"
                             "MemAvailable:   22000000 kB\nBuffers: 10 kB\n")
    assert build_budget.available_bytes(path) == 22_000_000 * 1024


@pytest.mark.parametrize("text", ["MemTotal: 1000 kB\n", "MemAvailable: lots\n", ""])
def test_meminfo_without_a_usable_figure_says_nothing(tmp_path: Path, text: str) -> None:
    assert build_budget.available_bytes(meminfo(tmp_path, text)) is None


def test_missing_meminfo_says_nothing(tmp_path: Path) -> None:
    assert build_budget.available_bytes(tmp_path / "absent") is None


def test_half_the_free_memory_is_shared_by_the_writers_at_two_bytes_per_buffered_byte() -> None:
    gib = 2**30
    # 20 GiB free, two writers: 5 GiB each at peak, 2.5 GiB of postings each.
    assert build_budget.writer_limit_mb(2, 20 * gib) == 2560
    assert build_budget.writer_limit_mb(1, 20 * gib) == 5120


def test_the_limit_stays_within_its_bounds() -> None:
    assert build_budget.writer_limit_mb(2, 100 * 2**20) == build_budget.SMALLEST_MB
    assert build_budget.writer_limit_mb(1, 1024 * 2**30) == build_budget.LARGEST_MB
    assert build_budget.writer_limit_mb(0, 4 * 2**30) == 1024


def test_unknown_free_memory_keeps_the_former_fixed_limit() -> None:
    assert build_budget.writer_limit_mb(2, None) == build_budget.FALLBACK_MB == 1024


def test_the_setting_is_empty_by_default_and_a_positive_number_when_set(tmp_path: Path) -> None:
    base = {"ARCHIVE_DATA_DIR": str(tmp_path)}
    assert load_settings(base).index_build_mb is None
    assert load_settings({**base, "ARCHIVE_INDEX_BUILD_MB": "512"}).index_build_mb == 512
    with pytest.raises(InvalidInput, match="ARCHIVE_INDEX_BUILD_MB"):
        load_settings({**base, "ARCHIVE_INDEX_BUILD_MB": "0"})
