"""A real WordPress for the tests: Debian's package, a private MariaDB, PHP's built-in server.

Everything lives in one temporary directory: the MariaDB data directory and its Unix socket
(no TCP), a tree of symbolic links to ``/usr/share/wordpress`` with its own ``wp-config.php``
(Debian's would read ``/etc/wordpress``), ``wp-content`` with the two themes and the test
mu-plugin, and ``access.log``, where ``tests/wordpress/router.php`` writes every request before
WordPress answers it. ``tests/wordpress/seed.php`` installs, seeds and changes the site through
WordPress's own PHP API. One site serves a whole test session; tests switch its theme and
modes (REST refused, sitemaps off) and reseed it instead of reinstalling.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from wordpress_corpus import SeedCorpus, SeedPost, build_corpus

WORDPRESS = Path("/usr/share/wordpress")
THEMES = ("twentytwentythree", "twentytwentyone")
SUPPORT = Path(__file__).parent / "wordpress"
START_TIMEOUT = 60.0
# Debian packages and the file or program that shows each one is installed.
PACKAGES = {
    "wordpress": WORDPRESS / "wp-load.php",
    "wordpress-theme-twentytwentythree": WORDPRESS / "wp-content/themes/twentytwentythree",
    "wordpress-theme-twentytwentyone": WORDPRESS / "wp-content/themes/twentytwentyone",
    "mariadb-server": "mariadbd",
    "mariadb-client": "mariadb",
    "php-cli": "php",
}
ARTICLE_PATH = re.compile(r"^/\d{4}/\d{2}/\d{2}/[^/?#]+/?(?:[?#].*)?$")


def _program(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def missing_packages() -> list[str]:
    """Return the Debian packages the WordPress tests need that are not installed."""
    missing = []
    for package, evidence in PACKAGES.items():
        found = evidence.exists() if isinstance(evidence, Path) else _program(evidence)
        if not found:
            missing.append(package)
    if "php-cli" not in missing:
        modules = subprocess.run([str(_program("php")), "-m"], capture_output=True, text=True,
                                 timeout=30).stdout.split()
        if "mysqli" not in modules:
            missing.append("php-mysql")
    return missing


def require_wordpress() -> None:
    """Skip the test when a package is missing; fail instead when ARCHIVE_REQUIRE_WORDPRESS=1."""
    missing = missing_packages()
    if not missing:
        return
    message = f"real WordPress needs {' '.join(missing)} (apt-get install, as .ci/run does)"
    if os.environ.get("ARCHIVE_REQUIRE_WORDPRESS") == "1":
        pytest.fail(message + "; ARCHIVE_REQUIRE_WORDPRESS=1 forbids skipping")
    pytest.skip(message)


class SeedFailed(RuntimeError):
    """The seed script refused a command (its message says why)."""


@dataclass
class WordPressSite:
    """A running WordPress on 127.0.0.1 and what was seeded into it."""

    root: Path
    base_url: str
    corpus: SeedCorpus = field(default_factory=build_corpus)
    state: dict[str, dict[str, object]] = field(default_factory=dict)
    theme: str = ""
    rest: str = "on"
    sitemaps: str = "on"

    def command(self, name: str, request: dict[str, object] | None = None) -> None:
        """Run one command of tests/wordpress/seed.php and keep the state it answers."""
        proc = subprocess.run(
            [str(_program("php")), str(SUPPORT / "seed.php"), str(self.root), name],
            input=json.dumps(request or {}), capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise SeedFailed(f"seed.php {name} failed: {proc.stderr.strip() or proc.stdout}")
        self.state = json.loads(proc.stdout)

    def configure(self, theme: str = "twentytwentythree", rest: str = "on",
                  sitemaps: str = "on") -> None:
        """Put the site in one theme and mode (cheap when nothing changes)."""
        if theme != self.theme:
            self.command("theme", {"theme": theme})
            self.theme = theme
        if (rest, sitemaps) != (self.rest, self.sitemaps):
            self.command("mode", {"rest": rest, "sitemaps": sitemaps})
            self.rest, self.sitemaps = rest, sitemaps

    def reseed(self) -> None:
        """Remove every post and insert the corpus again (a test that changed the site)."""
        self.command("seed", self.corpus.as_seed())

    def edit(self, slug: str, modified_gmt: str, *, title: str | None = None,
             content: str | None = None) -> None:
        """Change a post through wp_update_post, its modified date set to MODIFIED_GMT."""
        request: dict[str, object] = {"slug": slug, "modified_gmt": modified_gmt}
        if title is not None:
            request["title"] = title
        if content is not None:
            request["content"] = content
        self.command("edit", request)

    def trash(self, slug: str) -> None:
        """Move a post to the trash through wp_trash_post."""
        self.command("trash", {"slug": slug})

    def publish(self, post: SeedPost) -> None:
        """Insert one more post through wp_insert_post."""
        self.command("publish", {"post": post.as_seed()})

    def url(self, slug: str) -> str:
        """Return WordPress's own permalink of the post with SLUG."""
        return str(self.state[slug]["link"])

    def requests(self) -> list[str]:
        """Return every request the server received, oldest first (``GET /path?query``)."""
        log = self.root / "access.log"
        if not log.exists():
            return []
        return log.read_text(encoding="utf-8").splitlines()

    def article_requests(self, since: int = 0) -> list[str]:
        """Return the paths of the article pages requested after the first SINCE requests."""
        paths = (line.split(" ", 1)[1] for line in self.requests()[since:] if " " in line)
        return [path for path in paths if ARTICLE_PATH.match(path)]


class _Process:
    """A child process whose standard error is copied to a file; an event fires on a line."""

    def __init__(self, args: Sequence[str], log: Path, ready: str,
                 env: dict[str, str] | None = None):
        # Its own process group: PHP's server workers go down with it.
        self.ready = threading.Event()
        self.exited = threading.Event()
        self.popen = subprocess.Popen(list(args), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, env=env,
                                      start_new_session=True)
        self._thread = threading.Thread(
            target=self._copy, args=(self.popen.stderr, log, ready), daemon=True)
        self._thread.start()

    def _copy(self, stream: IO[bytes] | None, log: Path, ready: str) -> None:
        assert stream is not None
        with log.open("ab") as out:
            for line in stream:
                out.write(line)
                out.flush()
                if ready.encode() in line:
                    self.ready.set()
        self.exited.set()
        self.ready.set()

    def wait_ready(self, what: str, log: Path) -> None:
        if not self.ready.wait(START_TIMEOUT) or self.exited.is_set():
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT:.0f} s:\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        self._thread.join(30)
        if self.popen.stderr is not None:
            self.popen.stderr.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_mariadb(root: Path) -> tuple[_Process, Path]:
    data = root / "mariadb"
    data.mkdir()
    sock = root / "mariadb.sock"
    subprocess.run(
        [str(_program("mariadb-install-db")), "--no-defaults", f"--datadir={data}",
         "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True, timeout=120)
    log = root / "mariadb.log"
    server = _Process(
        [str(_program("mariadbd")), "--no-defaults", f"--datadir={data}", f"--socket={sock}",
         "--skip-networking", "--user=root", f"--pid-file={root / 'mariadb.pid'}",
         "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
         "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
         "--skip-grant-tables"],
        log, "ready for connections")
    server.wait_ready("MariaDB", log)
    subprocess.run(
        [str(_program("mariadb")), "--no-defaults", f"--socket={sock}", "-uroot", "-e",
         "CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"],
        check=True, capture_output=True, timeout=60)
    return server, sock


def _write_tree(root: Path, base_url: str, sock: Path) -> None:
    tree = root / "wordpress"
    tree.mkdir()
    for entry in WORDPRESS.iterdir():
        if entry.name not in ("wp-config.php", "wp-content"):
            (tree / entry.name).symlink_to(entry)
    content = root / "wp-content"
    for sub in ("themes", "plugins", "mu-plugins", "uploads", "upgrade"):
        (content / sub).mkdir(parents=True)
    for theme in THEMES:
        (content / "themes" / theme).symlink_to(WORDPRESS / "wp-content/themes" / theme)
    for plugin in (SUPPORT / "mu-plugins").glob("*.php"):
        (content / "mu-plugins" / plugin.name).symlink_to(plugin)
    (tree / "wp-content").symlink_to(content)
    salts = "\n".join(f"define('{name}', 'archive-tests-{name.lower()}');" for name in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
        "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
    (tree / "wp-config.php").write_text(f"""<?php
// Private configuration of the tests' WordPress (written by tests/wordpress_site.py).
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{sock}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';
{salts}
define('WP_HOME', '{base_url}');
define('WP_SITEURL', '{base_url}');
define('WP_CONTENT_DIR', '{content}');
define('WP_CONTENT_URL', '{base_url}/wp-content');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);
require_once ABSPATH . 'wp-settings.php';
""", encoding="utf-8")
    (root / "home-url").write_text(base_url, encoding="utf-8")


def _start_php(root: Path, port: int) -> _Process:
    log = root / "php-server.log"
    env = dict(os.environ, ARCHIVE_WP_ROOT=str(root), PHP_CLI_SERVER_WORKERS="2")
    server = _Process(
        [str(_program("php")), "-d", "display_errors=stderr", "-d",
         "error_reporting=E_ALL & ~E_DEPRECATED & ~E_NOTICE", "-d", "memory_limit=256M",
         "-S", f"127.0.0.1:{port}", "-t", str(root / "wordpress"),
         str(SUPPORT / "router.php")],
        log, "started", env=env)
    server.wait_ready("PHP's built-in server", log)
    return server


@contextmanager
def running_wordpress(root: Path, corpus: SeedCorpus | None = None) -> Iterator[WordPressSite]:
    """Install and seed WordPress under ROOT, serve it on 127.0.0.1, stop it afterwards."""
    require_wordpress()
    mariadb, sock = _start_mariadb(root)
    php: _Process | None = None
    try:
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        _write_tree(root, base_url, sock)
        site = WordPressSite(root, base_url, corpus or build_corpus())
        site.command("install", {"title": "Notre Continent"})
        site.reseed()
        site.configure()
        php = _start_php(root, port)
        yield site
    finally:
        if php is not None:
            php.stop()
        mariadb.stop()
