"""The command line reports problems as one line and a documented exit code."""

from __future__ import annotations

import pytest

from archive.authors import author_key, author_slug
from archive.config import load_settings
from archive.errors import InvalidInput


def test_unknown_command_is_a_usage_error(run_cli) -> None:
    code, _, err = run_cli("no-such-command")
    assert code == 2
    assert "Traceback" not in err


def test_help_lists_commands_and_exit_codes(run_cli) -> None:
    code, out, _ = run_cli("--help")
    assert code == 0
    for name in ("demo", "crawl", "index", "search", "parse", "replica", "serve"):
        assert name in out
    assert "index, collecte ou publication verrouillé" in out


def test_data_dir_option_and_environment_are_both_honoured(tmp_path) -> None:
    from_env = load_settings(environ={"ARCHIVE_DATA_DIR": str(tmp_path / "a")})
    assert from_env.data_dir == tmp_path / "a"
    overridden = load_settings(environ={"ARCHIVE_DATA_DIR": "x"}, data_dir=tmp_path / "b")
    assert overridden.database_path == tmp_path / "b" / "archive.sqlite3"


def test_unusable_setting_names_the_variable() -> None:
    with pytest.raises(InvalidInput, match="ARCHIVE_CRAWL_DELAY"):
        load_settings(environ={"ARCHIVE_CRAWL_DELAY": "soon"})


def test_spellings_of_one_author_share_one_key() -> None:
    assert author_key("Aïssatou N'Diaye") == author_key("aissatou  n’diaye")
    assert author_key("Jean - Baptiste Mendy") == author_key("jean-baptiste mendy")
    assert author_key("Fatou Sène") != author_key("Fatou Sané")
    assert author_slug("Aïssatou N’Diaye") == "aissatou-n-diaye"
