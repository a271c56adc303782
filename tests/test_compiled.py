"""Compiled kernels: the search's kernels run from a module compiled ahead of time, without
numba in the process; any other call runs just in time with the same answers; a module that
cannot be built leaves the kernels running just in time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from search_fixtures import archive_and_index, replica_articles, service_for

from indexer import compiled

ROOT = Path(__file__).resolve().parent.parent


@compiled.kernel
def _running_total(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0], np.int64)
    total = 0
    for i in range(values.shape[0]):
        total += values[i]
        out[i] = total
    return out


@compiled.helper
def _doubled_at(values: np.ndarray, i: int) -> np.int64:
    return np.int64(values[i] * 2)


@compiled.kernel
def _doubled_total(values: np.ndarray) -> np.int64:
    total = np.int64(0)
    for i in range(values.shape[0]):
        total += _doubled_at(values, i)
    return total


# The helper itself (in a tuple: every name bound to it is rebound once kernels are compiled).
_DOUBLED_AT = (_doubled_at,)


def _in_a_process(code: str, **environment: str) -> dict[str, object]:
    """Run CODE (which prints a JSON line last) in a fresh Python process; return its JSON."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, **environment),
                          check=True)
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


_WARM_SEARCH_PROCESS = """
import json, sys
import indexer.search
from indexer import compiled
compiled.warm_up()
print(json.dumps({"numba": "numba" in sys.modules,
                  "just_in_time": sum(k.calls_just_in_time for k in compiled.kernels()),
                  "native": sorted(compiled.native_kernels())}))
"""


def _c_compiler() -> None:
    """Skip without a C compiler (numba's ahead-of-time compiler links with it), fail so with
    ARCHIVE_REQUIRE_COMPILER=1 (CI)."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        message = "no C compiler (Debian package gcc): the kernels run just in time"
        if os.environ.get("ARCHIVE_REQUIRE_COMPILER") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_COMPILER=1 forbids skipping")
        pytest.skip(message)


def test_the_search_kernels_run_from_the_compiled_module_without_numba() -> None:
    _c_compiler()
    found = _in_a_process(_WARM_SEARCH_PROCESS)
    assert found["numba"] is False
    assert found["just_in_time"] == 0
    assert found["native"]


def test_every_kernel_of_the_search_is_in_a_module_the_build_compiles() -> None:
    _c_compiler()
    import indexer.search  # noqa: F401  # imports every module registering kernels

    search_kernels = [k for k in compiled.kernels() if not k.name.startswith("test_")]
    assert search_kernels
    native = compiled.native_kernels()
    for kernel in search_kernels:
        assert kernel.name.startswith(compiled.KERNEL_MODULES), kernel.name
        assert native.get(kernel.name), f"{kernel.name}: no example calls it (warms_up)"


def test_a_value_s_type_is_written_as_the_build_writes_numba_s() -> None:
    import numba

    from indexer.kernel_build import type_string

    base = np.arange(12, dtype=np.int64)
    read_only = np.frombuffer(bytes(range(8)), dtype=np.uint8)
    unaligned = np.frombuffer(bytes(range(9)), dtype=np.uint32, count=2, offset=1)
    values: list[object] = [base, base[::2], base.reshape(3, 4), base.reshape(3, 4).T,
                            read_only, unaligned, base.astype(np.uint16), 3, True, 2.5,
                            np.int64(4), np.uint32(5), np.float32(1.5), np.bool_(False)]
    for value in values:
        assert compiled.argument_types([value]) == (type_string(numba.typeof(value)),), value


def test_a_call_with_types_the_module_lacks_runs_just_in_time_with_the_same_answer() -> None:
    _c_compiler()
    from indexer.matches import _near_merge

    compiled.warm_up()
    a = np.array([1, 10, 50, 2**32 + 3], dtype=np.int64)
    b = np.array([4, 70, 2**32 + 9], dtype=np.int64)
    span = np.int64(2**32)
    native = _near_merge(a, b, np.int64(5), span)
    before = _near_merge.calls_just_in_time
    strided = np.repeat(a, 2)[::2]  # not contiguous: a type the module was not built for
    assert np.array_equal(_near_merge(strided, b, np.int64(5), span), native)
    assert _near_merge.calls_just_in_time == before + 1


def test_a_kernel_outside_the_search_is_compiled_just_in_time_and_answers_as_python() -> None:
    values = np.arange(1, 1000, dtype=np.int64)
    assert np.array_equal(_running_total(values), _running_total.python(values))
    assert _running_total.compiled
    assert np.array_equal(_running_total(values), np.cumsum(values))


def test_a_kernel_calls_a_helper_compiled_and_python_calls_it_as_python() -> None:
    values = np.arange(1, 100, dtype=np.int64)
    assert _doubled_total(values) == 2 * int(values.sum())
    (helper,) = _DOUBLED_AT
    assert isinstance(helper, compiled.Helper)
    assert helper(values, 3) == helper.python(values, 3) == 8


_HELPERS_PROCESS = """
import json, sys
import numpy as np
import indexer.search
from indexer import compiled, postings_format
compiled.warm_up()
data = np.array([0x85, 0x01, 0x07, 0x80], dtype=np.uint8)
print(json.dumps({"numba": "numba" in sys.modules,
                  "helper": isinstance(postings_format.varint_at, compiled.Helper),
                  "read": [int(v) for v in postings_format.varint_at(data, 0, 4)],
                  "cut": [int(v) for v in postings_format.varint_at(data, 3, 4)],
                  "near": postings_format.near_in_values(
                      (np.array([7]), data[:2], np.array([0]), np.array([2])),
                      (np.array([7]), data[2:3].copy(), np.array([0]), np.array([1])),
                      200).tolist()}))
"""


def test_helpers_are_compiled_into_the_module_s_kernels_and_stay_python_outside() -> None:
    _c_compiler()
    found = _in_a_process(_HELPERS_PROCESS)
    assert found["numba"] is False
    assert found["helper"] is True
    assert found["read"] == [133, 2, 0]
    assert found["cut"] == [0, 4, -1]
    assert found["near"] == [7]  # positions 133 and 7, 126 apart: within 200


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


def test_a_kernel_without_a_writable_numba_cache_is_compiled_all_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where numba finds no directory to cache in (source and user cache read only), it
    refuses to cache: the kernel is compiled for the process alone."""
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])

    @compiled.kernel
    def tripled(values: np.ndarray) -> np.ndarray:
        return values * 3

    assert np.array_equal(tripled(np.arange(4)), np.arange(4) * 3)


def test_a_module_that_cannot_be_built_leaves_the_kernels_just_in_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    monkeypatch.setenv(compiled.DIRECTORY_VARIABLE, str(not_a_directory / "kernels"))
    monkeypatch.setattr(compiled, "_native", None)
    with caplog.at_level(logging.WARNING, logger="indexer.compiled"):
        assert compiled.native_kernels() == {}
    assert "compiled kernels unavailable" in caplog.text
    assert "no writable directory" in caplog.text


def test_processes_building_at_once_build_one_module_and_both_load_it(tmp_path: Path) -> None:
    _c_compiler()
    code = _WARM_SEARCH_PROCESS
    environment = dict(os.environ, **{compiled.DIRECTORY_VARIABLE: str(tmp_path)})
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    for out, _ in outputs:
        found = json.loads(out.strip().splitlines()[-1])
        assert found["numba"] is False and found["just_in_time"] == 0
    assert len(list(tmp_path.glob("_kernels_*.json"))) == 1
    assert len([p for p in tmp_path.glob("_kernels_*") if p.suffix == ".so"]) == 1


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
