"""The front end's Jinja environment writes exactly what Jinja's own would, in fewer pieces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from archive.web import create_app, template_folder
from archive.web.rendering import ArchiveEnvironment, JoinedOutput, escaped_text

# Every construct whose output the generator changes: text with values, values alone,
# filters, Markup, numbers, None, undefined names, loops, conditions, set blocks, macros
# with callers, an autoescape block decided at run time, includes and an inherited block.
PAGES = {
    "base.html": "<title>{% block title %}T{% endblock %}</title><main>{% block main %}"
                 "{% endblock %}</main>{{ footer }}",
    "part.html": '<p class="{{ kind }}">{{ text }} & {{ 3 * 2 }}</p>',
    "page.html": """{% extends "base.html" %}
{% block title %}« {{ q }} » — {{ q|upper }}{% endblock %}
{% block main %}
{% set block_set %}<b>{{ q }}</b>{{ safe }}{% endset %}{{ block_set }}
{% macro link(href, label) %}<a href="{{ href }}">{{ label }}</a>
{{ caller() if caller }}{% endmacro %}
{% for item in items %}<li data-n="{{ loop.index }}" title='{{ item }}'>{{ item }}
{% if not loop.last %}, {% endif %}</li>{% endfor %}
{% call link(href, q) %}[{{ number }}]{% endcall %}
{{ link(href, safe) }}{{ missing }}{{ none }}{{ number }}{{ 1.5 }}{{ safe }}{{ q ~ safe }}
{% autoescape flag %}{{ q }}{{ safe }}{% endautoescape %}
{% include "part.html" %}{{ "constant <text>" }}{{ "%s"|format(q) }}
{% endblock %}""",
}
CONTEXT: dict[str, Any] = {
    "q": "l'eau <chaude> & \"froide\"", "items": ["a<b", "c&d", 'e"f', "g'h"],
    "href": "/recherche?q=eau&auteur=Jean+Dupont", "safe": Markup("<em>déjà sûr</em>"),
    "number": 12345, "none": None, "footer": "pied & page", "kind": "x'y", "text": "<t>",
}


def _render(environment_class: type[jinja2.Environment], flag: bool) -> str:
    environment = environment_class(loader=jinja2.DictLoader(PAGES), autoescape=True,
                                    trim_blocks=True, lstrip_blocks=True)
    return environment.get_template("page.html").render(**CONTEXT, flag=flag)


class _PlainEnvironment(jinja2.Environment):
    """Jinja's own environment with the front end's ``escaped_text`` and generator."""

    code_generator_class = JoinedOutput
    escaped_text = staticmethod(escaped_text)


@pytest.mark.parametrize("flag", [True, False])
def test_joined_output_writes_what_jinja_writes(flag: bool) -> None:
    assert _render(_PlainEnvironment, flag) == _render(jinja2.Environment, flag)


def test_joined_output_yields_a_stretch_in_one_piece() -> None:
    environment = _PlainEnvironment(autoescape=True)
    template = environment.from_string('<a href="{{ href }}">{{ label }}</a> ({{ n }})')
    pieces = list(template.generate(href="/a?b=1&c=2", label="<x>", n=3))
    assert pieces == ['<a href="/a?b=1&amp;c=2">&lt;x&gt;</a> (3)']


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(),
                 st.text().map(Markup)))
def test_escaped_text_is_markupsafe_escape(value: object) -> None:
    assert escaped_text(value) == str(escape(value))
    assert type(escaped_text(value)) is str


def test_the_app_compiles_every_template_with_joined_output(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": tmp_path})
    assert isinstance(app.jinja_env, ArchiveEnvironment)
    for path in sorted(template_folder().glob("*.html")):
        source = app.jinja_env.compile(path.read_text(encoding="utf-8"), path.name, raw=True)
        assert "environment.escaped_text(" in source or "{{" not in path.read_text("utf-8")


def test_a_request_looks_at_the_database_file_once(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.web.services as services_module
    from archive.store import Archive

    Archive.open(tmp_path / "archive.sqlite3").close()
    app = create_app({"DATA_DIR": tmp_path})
    services = app.extensions["archive"]
    looked: list[object] = []
    real_stat = services_module.os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        looked.append(path)
        return real_stat(path, *args, **kwargs)

    first = services.archive()  # opened before counting: opening looks at files too
    monkeypatch.setattr(services_module.os, "stat", counting_stat)
    try:
        with app.test_request_context("/"):
            services.begin_request()
            assert services.archive() is first
            assert services.archive() is first and services.archive() is first
            assert len(looked) == 1
            services.end_request()
        # Outside a request, and in the next one, the file is looked at again.
        assert services.archive() is first and len(looked) == 2
        with app.test_request_context("/"):
            services.begin_request()
            services.archive()
            services.archive()
            services.end_request()
        assert len(looked) == 3
    finally:
        services.close()
