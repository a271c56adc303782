"""``python -m archive unhide``: put an article hidden with ``hide`` back on the public surfaces."""

from __future__ import annotations

from archive.commands.hide import make_command

command = make_command("unhide")
