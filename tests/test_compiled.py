"""Compiled kernels: compiled at their first call, the same answers as Python, warmed up by
the service's preparation."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from search_fixtures import archive_and_index, replica_articles, service_for

from indexer import compiled


@compiled.kernel
def _running_total(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0], np.int64)
    total = 0
    for i in range(values.shape[0]):
        total += values[i]
        out[i] = total
    return out


def test_a_kernel_is_compiled_at_its_first_call_and_answers_as_python() -> None:
    values = np.arange(1, 1000, dtype=np.int64)
    assert np.array_equal(_running_total(values), _running_total.python(values))
    assert _running_total.compiled
    assert np.array_equal(_running_total(values), np.cumsum(values))


def test_threads_compiling_one_kernel_at_once_all_get_its_answer() -> None:
    @compiled.kernel
    def doubled(values: np.ndarray) -> np.ndarray:
        return values * 2

    values = np.arange(10, dtype=np.int64)
    answers: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: answers.append(doubled(values)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 4
    assert all(np.array_equal(answer, values * 2) for answer in answers)


def test_a_kernel_without_a_writable_cache_is_compiled_all_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where numba finds no directory to cache in (source and user cache read only), it
    refuses to cache: the kernel is compiled for the process alone."""
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])

    @compiled.kernel
    def tripled(values: np.ndarray) -> np.ndarray:
        return values * 3

    assert np.array_equal(tripled(np.arange(4)), np.arange(4) * 3)


def test_warm_up_runs_every_registered_example() -> None:
    calls: list[int] = []
    example = compiled.warms_up(lambda: calls.append(1))
    try:
        ran = compiled.warm_up()
        assert calls == [1]
        assert ran == len(compiled.registered())
    finally:
        compiled._warm_ups.remove(example)


def test_the_service_preparation_warms_the_kernels_up(data_dir: Path) -> None:
    calls: list[int] = []
    example = compiled.warms_up(lambda: calls.append(1))
    archive_and_index(data_dir, replica_articles(3))
    try:
        with service_for(data_dir) as service:
            service.prepare()
        assert calls == [1]
    finally:
        compiled._warm_ups.remove(example)
