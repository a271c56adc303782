"""The web front end: ``create_app`` assembles the Flask application, and only it.

Settings come from ``archive.config.load_settings()`` (the environment), with CONFIG overriding
them for tests (``{"DATA_DIR": tmp_path}``, or a whole ``Settings`` under ``"SETTINGS"``); any other
key of CONFIG goes to ``app.config``. Nothing touches the archive or the index here: each worker
opens them lazily after fork (``archive.web.services``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from archive.config import Settings, load_settings
from archive.publish.layout import served_release
from archive.web import addresses, errors, formatting, links, rendering, security
from archive.web.params import RecordNumber
from archive.web.services import Services

__all__ = ["create_app", "template_folder"]


def template_folder() -> Path:
    """Return the templates directory: the checkout's ``templates/``, or the installed copy.

    A source checkout (or an editable install) reads ``templates/`` beside the packages; a wheel
    ships the same files as ``archive/web/templates`` (pyproject's package-dir mapping).
    """
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "base.html").is_file():
        return checkout
    return Path(str(resources.files("archive.web") / "templates"))


def _name_release(services: Services) -> Callable[[Response], Response]:
    """Return the hook naming, on every answer, the published release that answered it."""

    def name_release(response: Response) -> Response:
        release = services.release()
        if release is not None:
            response.headers["X-Archive-Release"] = release
        return response

    return name_release


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Assemble the web application: settings, services, filters, blueprints, errors, headers."""
    overrides = dict(config or {})
    settings = overrides.pop("SETTINGS", None)
    if not isinstance(settings, Settings):
        data_dir = overrides.pop("DATA_DIR", None)
        settings = load_settings(data_dir=Path(data_dir) if data_dir is not None else None)
    overrides.pop("DATA_DIR", None)
    if settings.release_dir is not None:
        # A web host of several: serve the publish directory's current release, read-only,
        # following each switch (archive.publish.layout).
        settings = settings.with_changes(data_dir=served_release(settings.release_dir))

    app = Flask(__name__, template_folder=str(template_folder()), static_folder="static")
    rendering.init_app(app)
    app.config.update(
        SECRET_KEY=settings.secret_key or None,
        MAX_CONTENT_LENGTH=64 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        ARCHIVE_SETTINGS=settings,
    )
    app.config.update(overrides)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    services = Services(settings)
    app.extensions["archive"] = services
    app.before_request(services.begin_request)
    app.teardown_request(lambda _exc: services.end_request())
    if settings.release_dir is not None:
        app.after_request(_name_release(services))
    if settings.trusted_proxies:
        # Only what the documented nginx configuration sets (docs/operations.md): the client's
        # address and the scheme. The host comes from Host, which nginx pins to server_name;
        # X-Forwarded-Host, -Port and -Prefix would come from the client and poison links.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )

    app.url_map.converters["number"] = RecordNumber
    formatting.init_app(app)
    addresses.init_app(app)
    links.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from archive.web import api, changes, coverage, exports, feeds, health, pages, versions

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(versions.bp)
    app.register_blueprint(changes.bp)
    app.register_blueprint(coverage.bp)
    return app
