"""The Jinja environment of the front end: templates compiled to yield fewer, longer strings.

Jinja compiles each stretch of a template between two tags (text and ``{{ ... }}``
expressions) to one ``yield`` per piece, and every piece then climbs the generators of the
blocks, includes and parent templates it sits in. A results page yields some 1,200 pieces
through three to five of them. ``JoinedOutput`` compiles such a stretch to one ``yield`` of
the pieces joined, the same expressions evaluated in the same order with the same escaping,
so a page is the same string for a fraction of the hand-offs. It is Jinja's own extension
point for this (``Environment.code_generator_class``); everything else compiles as Jinja
compiles it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.templating import Environment
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import escape

__all__ = ["ArchiveEnvironment", "JoinedOutput", "escaped_text", "init_app"]


class JoinedOutput(CodeGenerator):
    """Jinja's code generator, a stretch of output yielded as one joined string, and the
    autoescaped values in it escaped by ``escaped_text``."""

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        # Jinja's own code where autoescaping is decided at run time or off.
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escaped_text(")
        if finalize.src is not None:
            self.write(finalize.src)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """Compile NODE's pieces to one ``yield`` of them joined (Jinja's own code when
        output goes to a buffer, or when an ``extends`` decides at run time)."""
        if frame.buffer is not None or frame.require_output_check:
            super().visit_Output(node, frame)
            return
        finalize = self._make_finalize()
        body: list[list[Any] | nodes.Expr] = []
        for child in node.nodes:
            # What Jinja itself folds at compile time (the text, constant expressions).
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            # As in Jinja: a constant that fails to fold is evaluated, and fails, at run time.
            except (nodes.Impossible, Exception):  # noqa: BLE001
                body.append(child)
                continue
            if body and isinstance(body[-1], list):
                body[-1].append(const)
            else:
                body.append([const])
        if len(body) < 2:
            super().visit_Output(node, frame)
            return
        self.writeline("yield environment.concat((")
        self.indent()
        for item in body:
            if isinstance(item, list):
                self.writeline(self._output_const_repr(item) + ",")
            else:
                self.newline(item)
                self._output_child_pre(item, frame, finalize)
                self.visit(item, frame)
                self._output_child_post(item, frame, finalize)
                self.write(",")
        self.outdent()
        self.writeline("))")


def escaped_text(value: Any) -> str:
    """Return VALUE as autoescaped output writes it: markupsafe's ``escape``, whose rules a
    plain string gets here without a ``Markup`` object made for each piece of a page."""
    if type(value) is str:
        return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
                .replace("'", "&#39;").replace('"', "&#34;"))
    return str(escape(value))


class ArchiveEnvironment(Environment):
    """Flask's Jinja environment, compiling templates with ``JoinedOutput``."""

    code_generator_class = JoinedOutput
    escaped_text = staticmethod(escaped_text)


def init_app(app: Flask) -> None:
    """Have APP compile its templates with ``JoinedOutput`` (before its environment exists)."""
    app.jinja_environment = ArchiveEnvironment
