"""Gunicorn settings for the web front end, read from the same settings as the rest of the product.

``gunicorn -c gunicorn.conf.py wsgi:app``. Two workers of four threads each suit two cores: a
search is mostly numpy and SQLite work that releases the GIL only in part, so processes give the
parallelism and threads hide the I/O. No preload: each worker opens the archive and the index
lazily after fork, and picks up a new index generation by itself (no restart after a crawl).
"""

import os
import sys
from typing import Any

from archive.config import load_settings
from archive.errors import ArchiveError

try:
    _settings = load_settings()
except ArchiveError as _error:
    # One French line and the CLI's exit code, not gunicorn's English « Failed to read config
    # file » and a traceback (gunicorn lets SystemExit through).
    print(f"erreur : {_error.message}", file=sys.stderr)
    sys.exit(_error.exit_code)

bind = _settings.web_bind
workers = _settings.web_workers
threads = _settings.web_threads
# gunicorn's threaded worker ("gthread"), whose own refusals (an overlong request line, too many
# headers, a malformed request) are the site's French error pages.
worker_class = "archive.web.worker.FrenchErrorsWorker"
preload_app = False
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound (jittered so the
# workers do not restart together).
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
errorlog = "-"
loglevel = "info"
# gunicorn's own lines (start-up, workers, signals, shutdown) in French, like the rest of the
# product; the access log keeps its machine format, read by log tools.
logger_class = "archive.web.gunicorn_french.FrenchLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# gunicorn 25+ opens a control socket for ``gunicornc`` in the service user's home, shared by
# every gunicorn that user runs; the archive does not use it (signals do the same jobs).
control_socket_disable = True
# gunicorn's longest request line (its own maximum; 0 would mean no limit at all, a line of any
# length read into memory). The application answers past its own limit
# (archive.web.params.MAX_URL_CHARS) with a French 414 page, and the worker answers a line longer
# than this with the same page. Headers stay bounded by gunicorn's defaults (100 fields of at
# most 8,190 bytes each), refused with a French 431.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "notrecontinent-archive"


def post_fork(server: object, worker: Any) -> None:
    """Cap the malloc arenas of a new worker before its threads exist (indexer.memory)."""
    from indexer.memory import cap_arenas

    if cap_arenas(_settings.web_malloc_arenas):
        worker.log.info("processus web %s : au plus %d arène(s) de malloc pour ses fils "
                        "d'exécution", worker.pid, _settings.web_malloc_arenas)


def on_exit(server: object) -> None:
    """Remove the finished pages the workers shared (archive.web.pagecache) when gunicorn stops."""
    from archive.web.pagecache import remove_shared_pages, shared_pages_dir

    folder = shared_pages_dir()
    if folder is not None:
        remove_shared_pages(folder / f"{os.getpid()}.sqlite3")
