"""Compiled kernels: the few loops over index bytes that numpy can only do in many passes.

numpy answers a loop over posting bytes, positions or word codes with a pass over the whole
array per step (gather, compare, cumulative sum, repeat, compress: about 2 ns an element each,
``docs/whoosh.md``), and a decoding of varints or a merge of two sorted lists takes ten or
fifteen of them. A kernel is such a loop written once as a plain Python function over numpy
arrays and numbers, in the subset numba compiles (``nopython`` mode), and run as machine code
that reads each byte once.

**Compiled ahead of time, run without numba.** numba's just-in-time compiler costs a process
some 130 MB of resident memory (its modules, then LLVM once a first kernel is compiled or
loaded from its cache), against a search worker's goal of 300 MB. So the kernels are compiled
once per installation into one extension module (``indexer.kernel_build``: numba's
ahead-of-time compiler, in a process of its own) and a search process loads that module alone:
numpy and 0.3 MB. The module is built the first time a process needs a kernel (``warm_up`` at a
web worker's or the tests' start: some 15-60 seconds, once), where ``ARCHIVE_KERNELS_DIR``
says, else beside this package (``__pycache__``), else in the user's cache directory;
its name is a digest of the kernels' modules' sources and of the Python, numpy and numba
versions, so an edit or an upgrade builds it again. Each kernel is compiled for the argument
types its registered examples (``warms_up``) call it with; a call with other types (or
without a module: no C compiler on the host, or ``ARCHIVE_KERNELS=jit``) runs the kernel
through numba's just-in-time compiler instead, correct but with numba's memory.

Rules every kernel keeps (``tests/test_compiled.py`` checks the wrapper's side):

- **Hostile bytes never reach outside an array.** Index files are ours, but a disk, a copy or
  a stranger's edit may damage them: a kernel checks every index it derives from the data
  against the array's length and says so through its result (a count below zero, a flag),
  and its Python caller raises the module's exception (``CorruptPostings``, ``ValueError``).
  Compiled code does not check bounds by itself: a read past an array is a crash, not an
  exception. (The compiled module does not check its arguments' types either: this wrapper
  calls it only with the exact types it was compiled for.)
- **The same answers as the numpy code it replaces**, kept as its reference in the tests.
- **Its argument types fixed by its callers**, and every combination called registered in an
  example (``warms_up``): a combination no example calls is never compiled ahead of time.

A step several kernels share (a varint read, a merge of two sorted lists) is a ``helper``: a
plain function to Python, bound to numba's compiled form in its module whenever kernels are
compiled (ahead of time or just in time), so that kernels call it as machine code.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, ParamSpec, TypeVar, cast

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

# The modules whose kernels the compiled module holds (a test checks every kernel is in one).
KERNEL_MODULES = (
    "indexer.associated",
    "indexer.columns",
    "indexer.matches",
    "indexer.posting_blocks",
    "indexer.postings_format",
    "indexer.whoosh_format",
)
# How long a build may take before the process gives up on it and compiles just in time.
BUILD_SECONDS = 900
# ``jit``: never build nor load the compiled module (the build's own process; debugging).
# Both variables are declared, with their French help, in archive/config.py.
MODE_VARIABLE = "ARCHIVE_KERNELS"
# Where to keep the compiled module, when not beside the package (a read-only installation).
DIRECTORY_VARIABLE = "ARCHIVE_KERNELS_DIR"

_compile_lock = threading.Lock()
_native_lock = threading.Lock()
_warm_ups: list[Callable[[], object]] = []
_kernels: list[Kernel[Any, Any]] = []
_helpers: list[Helper[Any, Any]] = []
_native: dict[str, dict[tuple[str, ...], Callable[..., Any]]] | None = None


class KernelBuildError(RuntimeError):
    """The compiled module could not be built or loaded (the kernels then run just in time)."""


class Kernel(Generic[P, R]):
    """A function run as compiled code: from the compiled module when it holds the call's
    argument types, else compiled by numba just in time (``kernel``)."""

    def __init__(self, function: Callable[P, R]) -> None:
        self.python = function
        self.name = f"{function.__module__}.{function.__qualname__}"
        self._table: dict[tuple[str, ...], Callable[..., Any]] | None = None
        self._jit: Callable[P, R] | None = None
        self.calls_just_in_time = 0
        functools.update_wrapper(self, function)
        _kernels.append(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        table = self._table
        if table is None:
            table = self._table = native_kernels().get(self.name, {})
        if table and not kwargs:
            function = table.get(argument_types(args))
            if function is not None:
                return cast(R, function(*args))
        self.calls_just_in_time += 1
        jit = self._jit if self._jit is not None else self.jit()
        return jit(*args, **kwargs)

    def jit(self) -> Callable[P, R]:
        """Return the kernel compiled by numba just in time (compiled at its first call)."""
        with _compile_lock:
            if self._jit is None:
                import numba  # imported here: a process using the compiled module never pays it

                _bind_helpers(numba)
                try:
                    jit = numba.njit(self.python, cache=True, nogil=True, boundscheck=False,
                                     error_model="numpy")
                except RuntimeError:
                    # No cache directory to write (the source's and the user's both read
                    # only): compiled in every process instead.
                    jit = numba.njit(self.python, cache=False, nogil=True, boundscheck=False,
                                     error_model="numpy")
                self._jit = cast("Callable[P, R]", jit)
            return self._jit

    @property
    def compiled(self) -> bool:
        """Whether the kernel has run in this process (from the compiled module or just in
        time)."""
        return bool(self._table) or self._jit is not None


class Helper(Generic[P, R]):
    """A step kernels share (``helper``): FUNCTION itself when Python calls it, numba's
    compiled form of it inside the kernels that call it."""

    def __init__(self, function: Callable[P, R]) -> None:
        self.python = function
        self.module = function.__module__
        self.name = function.__name__
        functools.update_wrapper(self, function)
        _helpers.append(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.python(*args, **kwargs)


def helper(function: Callable[P, R]) -> Helper[P, R]:
    """Decorate FUNCTION (numba's ``nopython`` subset, at its module's top level) as a step
    that kernels call: compiled into each of them, never exported alone."""
    return Helper(function)


def _bind_helpers(numba: ModuleType) -> None:
    """Bind every name of a helper, in its own module and in the kernels' modules that
    import it, to numba's compiled form of it, for the kernels compiled from now on: numba
    reads a kernel's globals when it compiles the kernel, and calls only functions it compiled
    itself. Python callers then get the same answers compiled (the build's process; a process
    compiling just in time)."""
    for shared in _helpers:
        compiled_form = None
        for name in {shared.module, *KERNEL_MODULES}:
            module = sys.modules.get(name)
            if module is None:
                continue
            for attribute, value in list(vars(module).items()):
                if value is shared:
                    if compiled_form is None:
                        compiled_form = numba.njit(shared.python, nogil=True,
                                                   boundscheck=False, error_model="numpy")
                    setattr(module, attribute, compiled_form)


def kernel(function: Callable[P, R]) -> Kernel[P, R]:
    """Decorate FUNCTION (numba's ``nopython`` subset) to run compiled (this module's
    docstring: it must check its own bounds, and its callers fix its argument types)."""
    return Kernel(function)


def warms_up(example: Callable[[], object]) -> Callable[[], object]:
    """Register EXAMPLE, a function calling kernels on tiny inputs with every combination of
    argument types their callers pass: what the compiled module is compiled for, and what
    ``warm_up`` runs."""
    _warm_ups.append(example)
    return example


def warm_up() -> int:
    """Load the compiled module (building it if needed) and call every registered example;
    return how many examples ran."""
    native_kernels()
    for example in list(_warm_ups):
        example()
    return len(_warm_ups)


def registered() -> list[Callable[[], object]]:
    """The examples ``warm_up`` runs (for the tests)."""
    return list(_warm_ups)


def kernels() -> list[Kernel[Any, Any]]:
    """Every kernel defined so far."""
    return list(_kernels)


_C, _F, _WRITEABLE = 0x1, 0x2, 0x400  # numpy's array flags (``flags.num``)
_KEPT_FLAGS = _C | _F | _WRITEABLE
# Python's numbers as numba types them, and numpy's scalars by their dtype.
_SCALARS: dict[type, str] = {bool: "|b1", int: "<i8", float: "<f8"}
_SCALARS.update({kind: np.dtype(kind).str for kind in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float32, np.float64)})
_array_types: dict[tuple[np.dtype[Any], int, int], str] = {}


def array_type(value: np.ndarray) -> str:
    """An array's type as the compiled module knows it: dtype, dimensions, layout and whether
    it is read only (numba's type of the array, which leaves alignment out)."""
    flags = value.flags.num & _KEPT_FLAGS
    key = (value.dtype, value.ndim, flags)
    found = _array_types.get(key)
    if found is None:
        layout = "C" if flags & _C else "F" if flags & _F else "A"
        found = f"{value.dtype.str}:{value.ndim}{layout}{'w' if flags & _WRITEABLE else 'r'}"
        _array_types[key] = found
    return found


def argument_types(args: Sequence[object]) -> tuple[str, ...]:
    """The types of ARGS as the compiled module knows them ("?" for a type it never holds:
    an array of a subclass, a tuple...). Called at every kernel call: one comprehension, an
    array's type looked up by its dtype, dimensions and flags (1.2 us for 7 arguments)."""
    return tuple([(_array_types.get((value.dtype, value.ndim, value.flags.num & _KEPT_FLAGS))
                   or array_type(value)) if type(value) is np.ndarray
                  else _SCALARS.get(type(value), "?") for value in args])


def native_kernels() -> dict[str, dict[tuple[str, ...], Callable[..., Any]]]:
    """Each kernel's compiled functions by argument types, from the compiled module, built
    first if this installation has none yet; empty when it cannot be (logged once)."""
    global _native
    if _native is not None:
        return _native
    with _native_lock:
        if _native is None:
            if os.environ.get(MODE_VARIABLE, "").strip().lower() == "jit":
                _native = {}
            else:
                try:
                    _native = _load_or_build()
                except KernelBuildError as error:
                    log.warning("compiled kernels unavailable, compiling just in time: %s",
                                error)
                    _native = {}
        return _native


def module_name() -> str:
    """The compiled module's name: a digest of the kernels' sources and of the versions that
    make its machine code."""
    digest = hashlib.sha256()
    for name in KERNEL_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise KernelBuildError(f"the kernels' module {name} is missing")
        digest.update(Path(spec.origin).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for package in ("numpy", "numba"):
        try:
            digest.update(importlib.metadata.version(package).encode())
        except importlib.metadata.PackageNotFoundError as error:
            raise KernelBuildError(f"{package} is not installed") from error
    digest.update(f"{sys.version} {platform.machine()}".encode())
    return f"_kernels_{digest.hexdigest()[:20]}"


def cache_directory() -> Path:
    """Where the compiled module lives: the directory ``ARCHIVE_KERNELS_DIR`` names, else this
    package's ``__pycache__`` when it can be written, else the user's cache directory."""
    named = os.environ.get(DIRECTORY_VARIABLE)
    candidates = ([Path(named)] if named else
                  [Path(__file__).resolve().parent / "__pycache__",
                   Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                   / "notrecontinent-archive"])
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK | os.X_OK):
            return directory
    raise KernelBuildError("no writable directory for the compiled kernels: "
                           + ", ".join(str(d) for d in candidates))


def _load_or_build() -> dict[str, dict[tuple[str, ...], Callable[..., Any]]]:
    name = module_name()
    directory = cache_directory()
    manifest = directory / f"{name}.json"
    if not manifest.exists():
        try:
            with open(directory / f"{name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another process building it: wait for it
                if not manifest.exists():
                    _build(directory, name)
        except OSError as error:
            raise KernelBuildError(f"cannot build in {directory}: {error}") from error
    return _load(directory, name, manifest)


def _build(directory: Path, name: str) -> None:
    log.info("building the compiled kernels %s in %s", name, directory)
    environment = dict(os.environ, **{MODE_VARIABLE: "jit"})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "indexer.kernel_build", str(directory), name],
            env=environment, capture_output=True, text=True, timeout=BUILD_SECONDS,
            check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KernelBuildError(f"the build did not finish: {error}") from error
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise KernelBuildError("the build failed: " + " | ".join(tail))


def _load(directory: Path, name: str,
          manifest: Path) -> dict[str, dict[tuple[str, ...], Callable[..., Any]]]:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    try:
        exported = json.loads(manifest.read_text())
        loader = importlib.machinery.ExtensionFileLoader(name, str(directory / (name + suffix)))
        spec = importlib.util.spec_from_loader(name, loader)
        if spec is None:
            raise KernelBuildError(f"cannot load {name}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except (OSError, ImportError, ValueError) as error:
        raise KernelBuildError(f"cannot load {name}: {error}") from error
    found: dict[str, dict[tuple[str, ...], Callable[..., Any]]] = {}
    for kernel_name, variants in exported.items():
        found[kernel_name] = {tuple(types): getattr(module, export)
                              for types, export in variants}
    return found
