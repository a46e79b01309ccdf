"""`qcflow serve`: uvicorn on uvloop and httptools, `QCFLOW_WORKERS` processes, each on a socket
of its own (ADR 0031)."""

from __future__ import annotations

import os
import pickle
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
import api.serving
from api.serving import OwnListener

ROOT = Path(__file__).resolve().parents[2]


def test_serve_runs_uvicorn_on_uvloop_and_httptools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn  # noqa: PLC0415

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: ran.update(kwargs, app=app))
    monkeypatch.setattr(api.cli, "configure_logging", lambda *a: None)
    monkeypatch.setenv("QCFLOW_DATA_DIR", str(tmp_path))
    assert api.cli.main(["serve"]) == 0
    assert ran["app"] == "api.cli:served_app"
    assert ran["factory"] is True
    assert (ran["workers"], ran["loop"], ran["http"]) == (1, "uvloop", "httptools")
    assert ran["access_log"] is False  # the app logs each request once (api/platform/logging.py)
    assert isinstance(api.cli.served_app(), Litestar)


def test_with_workers_each_process_is_sent_a_socket_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """uvicorn's supervisor runs the workers; what it sends each one becomes, in that process, a
    new socket on the port (SO_REUSEPORT), not the parent's socket shared."""
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    ran: list[tuple[Any, list[Any]]] = []
    monkeypatch.setattr(Multiprocess, "run", lambda self: ran.append((self.config, self.sockets)))
    monkeypatch.setenv("QCFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QCFLOW_WORKERS", "3")
    monkeypatch.setenv("QCFLOW_PORT", "0")
    monkeypatch.setattr(api.cli, "configure_logging", lambda *a: None)
    assert api.cli.main(["serve"]) == 0
    [(config, [listener])] = ran
    assert (config.app, config.factory, config.workers) == ("api.cli:served_app", True, 3)
    assert (config.loop, config.http, config.access_log) == ("uvloop", "httptools", False)
    assert isinstance(listener, OwnListener)
    assert listener.port > 0  # port 0 asked: the one the system gave, the same for every worker
    # As two workers get it (their own pickled copy, made by this process).
    sockets = [pickle.loads(pickle.dumps(listener)) for _ in range(2)]  # noqa: S301
    try:
        assert sockets[0].fileno() != sockets[1].fileno()
        for sock in sockets:
            assert sock.getsockname() == ("127.0.0.1", listener.port)
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_another_program_holds_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from uvicorn.config import STARTUP_FAILURE  # noqa: PLC0415

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            api.serving.bound_socket("127.0.0.1", port)
        assert stopped.value.code == STARTUP_FAILURE


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_a_bad_number_of_workers_stops_the_start(workers: str) -> None:
    with pytest.raises(SystemExit, match="workers"):
        api.cli.Settings.from_env({"QCFLOW_WORKERS": workers})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_worker_processes_serve_and_share_a_burst_of_connections(tmp_path: Path) -> None:
    """The real command: two processes (the factory imported in each) answer on one port, each
    listening on a socket of its own, and sixteen connections opened at once are served by both.
    (Idle workers shared one socket's burst too; under load the busy worker took nearly all:
    bench/serve_bench.py, ADR 0031.)"""
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
        workers = children(server.pid)
        assert len(workers) == 2
        while time.monotonic() < deadline and not all(listening(w, port) for w in workers):
            time.sleep(0.1)  # the second worker may still be starting
        listeners = [listening(worker, port) for worker in workers]
        assert all(listeners) and not listeners[0] & listeners[1]  # a socket each, none shared
        burst = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(16)]
        try:
            for connection in burst:
                connection.sendall(b"GET /health HTTP/1.1\r\nHost: qcflow\r\n\r\n")
            assert all(c.recv(64).startswith(b"HTTP/1.1 200") for c in burst)
            held = [len(connected(worker, port)) for worker in workers]
        finally:
            for connection in burst:
                connection.close()
        assert sum(held) == 16 and min(held) >= 1, held
    finally:
        server.terminate()
        server.communicate(timeout=60)
    assert server.returncode == 0


def listening(pid: int, port: int) -> set[int]:
    """The process's listening sockets on the port (their inodes)."""
    return _sockets(pid) & _tcp(port, state="0A")


def connected(pid: int, port: int) -> set[int]:
    """The process's established connections to the port (the server's end)."""
    return _sockets(pid) & _tcp(port, state="01")


def _sockets(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _tcp(port: int, *, state: str) -> set[int]:
    """Inodes of the TCP sockets whose local port is `port`, in the state (/proc/net/tcp)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(int(fields[9]))
    return found


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
