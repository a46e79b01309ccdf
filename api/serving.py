"""How `qcflow serve` runs its server (ADR 0031): uvicorn on uvloop and httptools, with
`QCFLOW_WORKERS` processes, each listening on a socket of its own on the one port.

uvicorn's own way with several workers binds one socket in the parent and hands it to every
worker. Each new connection then goes to the worker that accepts first, and a worker accepts all
that are waiting: a burst of connections (a proxy's pool, a browser's six, a load test's 32) lands
on one worker, which serves them all on one core while the others idle (seen as 94 % and 4 % of a
core in bench/serve_bench.py). Here each worker opens its own socket with `SO_REUSEPORT`, and the
kernel spreads new connections across them by address. uvicorn's supervisor (`Multiprocess`)
still starts, watches, restarts and stops the workers.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, cast

import structlog

from tenants.settings import Settings

log = structlog.get_logger("qcflow.serve")


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options: uvloop and httptools, `QCFLOW_WORKERS` processes; the app logs each
    request itself (no access log)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,  # X-Forwarded-For is believed from QCFLOW_TRUSTED_PROXIES only
        "backlog": 2048,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 30,
    }


def run_server(factory: str, settings: Settings) -> None:
    """Serve the app that `factory` ("module:function") makes, in each worker process."""
    import uvicorn  # noqa: PLC0415 (only serving needs the server)
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    options = server_options(settings)
    if settings.workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(factory, factory=True, **options)
        return
    config = uvicorn.Config(factory, factory=True, **options)
    held = bound_socket(config.host, config.port)  # port 0: the one the system gave
    try:
        listener = OwnListener(config.host, held.getsockname()[1])
        Multiprocess(config, sockets=[cast("socket.socket", listener)]).run()
    finally:
        held.close()


class OwnListener:
    """Stands for a listening socket in uvicorn's list of sockets. uvicorn's supervisor sends the
    list to each worker process it starts (pickled, the process being spawned), and there this
    becomes a socket of the worker's own, bound to the same address with `SO_REUSEPORT`: so a
    worker restarted or added later gets one too."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return (bound_socket, (self.host, self.port))


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the address with `SO_REUSEPORT`, not yet listening. The parent holds one
    for as long as it serves (it takes no connection, never listening), so a port another program
    holds stops the start, named, before any worker starts. In a worker, uvicorn makes it listen;
    a worker that cannot bind it ends as a failed start, which stops the supervisor rather than
    restarting the worker again and again."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as e:
        from uvicorn.config import STARTUP_FAILURE  # noqa: PLC0415

        sock.close()
        log.error("port_unavailable", host=host, port=port, error=e.strerror)
        sys.exit(STARTUP_FAILURE)
    return sock
