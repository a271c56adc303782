"""The web front end ships whole: every package listed, templates and static files included."""

from __future__ import annotations

import tomllib
from pathlib import Path

from archive.web import template_folder

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_directory_is_listed_in_pyproject() -> None:
    listed = set(_setuptools()["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("archive", "indexer")
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = found - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_templates_install_inside_the_package_with_the_static_files() -> None:
    config = _setuptools()
    assert config["package-dir"]["archive.web.templates"] == "templates"
    patterns = config["package-data"]["*"]
    for name in {p.suffix for p in (ROOT / "archive/web/static").iterdir()}:
        assert f"*{name}" in patterns
    assert "*.html" in patterns


def test_checkout_reads_the_top_level_templates() -> None:
    assert template_folder() == ROOT / "templates"
    assert (template_folder() / "base.html").is_file()
