"""The baseline of bench/serve_bench.py: a trivial Litestar app served exactly as `qcflow serve`
serves the platform (same uvicorn options, same workers). Its handlers are synchronous (run in
threads), as most of ours are; the read answers a small list, the write decodes a JSON body."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post


@get("/trivial", sync_to_thread=True)
def read() -> list[dict[str, Any]]:
    return [{"id": i, "title": "2026年上海市质量管理小组活动"} for i in range(3)]


@post("/trivial", sync_to_thread=True)
def write(data: dict[str, Any]) -> dict[str, Any]:
    return {"id": "0", "keys": sorted(data)}


def create() -> Litestar:
    return Litestar(route_handlers=[read, write], logging_config=None)
