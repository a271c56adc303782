"""The project's promises about itself: docs match code, lint is clean, one Whoosh."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from archive.config import SETTINGS
from archive.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_has_exactly_two_setup_commands_and_the_demo_is_one() -> None:
    commands = _readme_commands()[:2]
    assert len(commands) == 2
    assert "python -m archive demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = _readme_commands()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_documents_every_setting() -> None:
    for setting in SETTINGS:
        assert f"`{setting.env}`" in README, f"README lacks {setting.env}"


def test_readme_documents_every_exit_code() -> None:
    for code in EXIT_CODES:
        assert re.search(rf"^\|\s*{code}\s*\|", README, re.MULTILINE), f"exit code {code}"


def test_exactly_one_whoosh_distribution_is_installed() -> None:
    import whoosh

    assert whoosh.versionstring() == "2.7.5"
    providers = [
        dist.metadata["Name"]
        for dist in metadata.distributions()
        if (dist.read_text("top_level.txt") or "").split().count("whoosh")
    ]
    assert len(providers) <= 1, providers


def test_code_is_ruff_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "archive", "indexer", "tests",
         "bench", *[p.name for p in ROOT.glob("*.py")]],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_packages_are_mypy_strict_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _settings_rows(text: str) -> dict[str, str]:
    """Return the default column of each ``| `ARCHIVE_X` | `default` |`` table row of TEXT."""
    rows = re.findall(r"^\|\s*`(ARCHIVE_[A-Z_]+)`\s*\|\s*([^|]+?)\s*\|", text, re.MULTILINE)
    return {name: default for name, default in rows}


def _shown(default: str) -> str:
    return f"`{default}`" if default else "(empty)"


def test_readme_and_operations_give_every_setting_s_true_default() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for text in (README, operations):
        rows = _settings_rows(text)
        for setting in SETTINGS:
            if setting.env in rows:
                assert rows[setting.env] == _shown(setting.default), setting.env
    assert set(_settings_rows(README)) == {setting.env for setting in SETTINGS}


def test_architecture_states_the_search_limits_the_code_declares() -> None:
    from indexer import results

    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in ("MAX_QUERY_CHARS", "MAX_PAGE", "MAX_PAGE_SIZE", "DEFAULT_PAGE_SIZE"):
        stated = re.search(rf"`{name}` ([\d,]+)", architecture)
        assert stated, f"docs/architecture.md does not state {name}"
        assert int(stated.group(1).replace(",", "")) == getattr(results, name), name


def test_no_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
    if tracked.returncode != 0:  # a copy without its git history: check every file instead
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    else:
        names = tracked.stdout.split()
    # Spelled in pieces so that this file does not match itself.
    outside = re.compile("|".join(["whoosh" + "-brief", r"\bresearch" + "/", r"\.\./" + "shared",
                                   "/" + "work/"]))
    found = []
    for name in names:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".toml", ".html", ".txt", ".json", ".cfg", ""} \
                and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{name}: {m.group()}" for m in outside.finditer(text)]
    assert found == []
