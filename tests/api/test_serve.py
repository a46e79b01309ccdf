"""`qcflow serve`: uvicorn on uvloop and httptools, `QCFLOW_WORKERS` processes (ADR 0031)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

import api.cli

ROOT = Path(__file__).resolve().parents[2]


def test_serve_runs_uvicorn_on_uvloop_and_httptools_with_the_workers_asked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn  # noqa: PLC0415

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: ran.update(kwargs, app=app))
    monkeypatch.setattr(api.cli, "configure_logging", lambda *a: None)
    monkeypatch.setenv("QCFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QCFLOW_WORKERS", "3")
    assert api.cli.main(["serve"]) == 0
    assert ran["app"] == "api.cli:served_app"
    assert ran["factory"] is True
    assert (ran["workers"], ran["loop"], ran["http"]) == (3, "uvloop", "httptools")
    assert ran["access_log"] is False  # the app logs each request once (api/platform/logging.py)
    assert isinstance(api.cli.served_app(), Litestar)


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_a_bad_number_of_workers_stops_the_start(workers: str) -> None:
    with pytest.raises(SystemExit, match="workers"):
        api.cli.Settings.from_env({"QCFLOW_WORKERS": workers})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_worker_processes_serve(tmp_path: Path) -> None:
    """The real command: two processes (the factory imported in each) answer on one port."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QCFLOW_")},
        "PYTHONPATH": str(ROOT),
        "QCFLOW_DATA_DIR": str(tmp_path / "var"),
        "QCFLOW_PORT": str(port),
        "QCFLOW_WORKERS": "2",
        "QCFLOW_RUN_PROJECTIONS": "0",
        "QCFLOW_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys, api.cli; sys.exit(api.cli.main(['serve']))"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, answer = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    answer = r.status
                    break
            except OSError:
                time.sleep(0.3)
        assert answer == 200
        assert len(children(server.pid)) == 2
    finally:
        server.terminate()
        server.communicate(timeout=60)
    assert server.returncode == 0


def children(pid: int) -> list[int]:
    """The worker processes whose parent is `pid` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid and b"resource_tracker" not in command:
                found.append(int(entry.name))
    return found
