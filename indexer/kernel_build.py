"""Build the compiled kernels' module ahead of time: ``python -m indexer.kernel_build DIR NAME``.

Run by ``indexer.compiled`` in a process of its own (numba's memory stays there): every module
holding kernels is imported, every registered example run once just in time, so that numba
knows each kernel's argument types, and each kernel is then compiled for each of them by
numba's ahead-of-time compiler (``numba.pycc``) into the extension module NAME in DIR, with a
manifest (``NAME.json``: each kernel's exported functions by argument types) written last, so
that a reader finding the manifest finds the module whole.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path
from typing import Any

from indexer import compiled


def type_string(numba_type: Any) -> str | None:
    """NUMBA_TYPE as ``compiled.argument_types`` writes a value's type, or None for a type the
    compiled module cannot take (the kernel then runs just in time for it)."""
    from numba.core import types
    from numba.np.numpy_support import as_dtype

    if isinstance(numba_type, types.Array):
        return (f"{as_dtype(numba_type.dtype).str}:{numba_type.ndim}{numba_type.layout}"
                f"{'w' if numba_type.mutable else 'r'}")
    if isinstance(numba_type, types.Boolean | types.Integer | types.Float):
        return str(as_dtype(numba_type).str)
    return None


def build(directory: Path, name: str) -> dict[str, list[list[Any]]]:
    """Compile every kernel for the argument types its examples call it with into the module
    NAME in DIRECTORY; return the manifest written beside it."""
    for module in compiled.KERNEL_MODULES:
        importlib.import_module(module)
    compiled.warm_up()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc is marked for deprecation; it still works
        from numba import pycc
    exported: dict[str, list[list[Any]]] = {}
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    with tempfile.TemporaryDirectory(dir=directory, prefix=f"{name}-") as scratch:
        cc: Any = pycc.CC(name)  # type: ignore[attr-defined,no-untyped-call]  # no hints
        cc.output_dir = scratch
        cc.verbose = False
        count = 0
        for kernel in compiled.kernels():
            if not kernel.name.startswith(compiled.KERNEL_MODULES):
                continue
            for signature in kernel.jit().nopython_signatures:  # type: ignore[attr-defined]
                types = [type_string(t) for t in signature.args]
                if any(t is None for t in types):
                    continue
                export = f"k{count}"
                count += 1
                cc.export(export, signature)(kernel.python)
                exported.setdefault(kernel.name, []).append([types, export])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cc.compile()
        os.replace(Path(scratch) / (name + suffix), directory / (name + suffix))
        manifest = Path(scratch) / f"{name}.json"
        manifest.write_text(json.dumps(exported, indent=1))
        os.replace(manifest, directory / f"{name}.json")
    return exported


def main(argv: list[str]) -> int:
    """Build the module named by ARGV into the directory it names."""
    if len(argv) != 3:
        print("usage: python -m indexer.kernel_build DIRECTORY NAME", file=sys.stderr)
        return 2
    exported = build(Path(argv[1]), argv[2])
    print(f"{sum(len(v) for v in exported.values())} functions of {len(exported)} kernels")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
