"""``python -m archive replica``: serves every edition on loopback, refuses unusable ports."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable

import httpx

RunCli = Callable[..., tuple[int, str, str]]


def test_replica_command_serves_each_edition_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "replica", "--port", "0", "--articles", "30",
         "--no-rest-api"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().split() for _ in range(3)]
        assert [edition for edition, _ in lines] == ["sn", "ci", "cm"]
        with httpx.Client(timeout=10) as client:
            for _, url in lines:
                assert url.startswith("http://127.0.0.1:")
                assert client.get(url).status_code == 200
            assert client.get(lines[0][1] + "wp-json/").status_code == 401
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "Traceback" not in errors and "réplique arrêtée" in errors


def test_replica_command_refuses_a_port_in_use(run_cli: RunCli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, errors = run_cli("replica", "--port", str(port))
    assert code == 2
    assert f"port {port}" in errors and "déjà pris" in errors
    assert "Traceback" not in errors


def test_replica_command_refuses_a_port_out_of_range(run_cli: RunCli) -> None:
    code, _, errors = run_cli("replica", "--port", "70000")
    assert code == 2 and "hors limites" in errors and "Traceback" not in errors
