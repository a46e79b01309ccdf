"""Tenants, health, OpenAPI and the request log line, over HTTP."""

from __future__ import annotations

from typing import Any

import litestar._kwargs.kwargs_model
import litestar.utils.sync
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import campaign_body

Client = AsyncTestClient[Any]


async def test_the_tenants_are_listed_with_their_chinese_names(client: Client) -> None:
    response = await client.get("/api/v1/tenants")
    assert response.status_code == 200
    assert {t["code"]: t["name_zh"] for t in response.json()} == {
        "caq": "中国质量协会",
        "cmiqa": "中国机械工业质量管理协会",
        "saq": "上海市质量协会",
        "sdaq": "山东省质量管理协会",
    }


async def test_a_tenant_shows_its_recommending_units_and_lists(client: Client) -> None:
    saq = (await client.get("/api/v1/tenants/saq")).json()
    assert saq["national_parent"] == "caq"
    assert {
        "code": "direct",
        "name_zh": "其他-市质协会员与质量推进部",
        "kind": "direct",
        "tenant": None,
    } in saq["recommending_units"]
    assert saq["programmes"]["qc_group"]["grades"][0]["name_zh"] == "标杆级"
    assert (await client.get("/api/v1/tenants/nowhere")).status_code == 404


async def test_health_reports_each_tenant_store_and_read_model(
    client: Client, backend: str
) -> None:
    token = "operations-" * 4
    client.app.state.settings = msgspec.structs.replace(
        client.app.state.settings, metrics_token=token
    )
    # The session's sign-in wrote to saq's ledger as the runners started: health is asked once
    # every read model has read it, so that its lag is known to be 0.
    head = client.app.state.platform.tenants["saq"].ledger.recorder.max_notification_id()
    assert client.app.state.views["saq"].wait(head)
    response = await client.get("/health", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert set(health["tenants"]) == {"caq", "cmiqa", "saq", "sdaq"}
    saq = health["tenants"]["saq"]
    assert saq["store"] == "ok"
    assert saq["backend"] == ("postgresql" if backend == "postgres" else "sqlite")
    assert saq["projections"][0]["name"] == "campaign_list"
    assert saq["projections"][0]["lag"] == 0


async def test_the_openapi_schema_names_every_operation(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"listTenants", "openCampaign", "extendDeadline", "amendRules", "health"} <= operations


async def test_every_request_gets_an_id_and_one_log_line(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.get("/api/v1/tenants/saq/campaigns", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    captured = capsys.readouterr()
    output = (captured.out + captured.err).splitlines()
    lines = [line for line in output if "request_finished" in line and "/campaigns" in line]
    assert len(lines) == 1
    assert "req-42" in lines[0] and "saq" in lines[0] and "status=200" in lines[0].replace('"', "")


async def test_a_requests_dependencies_are_resolved_in_turn_without_a_task_group(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Litestar resolves the dependencies of one level in an anyio task group (litestar#4563);
    ours are plain functions, resolved one after another (`resolve_dependencies_in_turn`)."""

    def no_task_group() -> Any:
        raise AssertionError("a task group was made for a request's dependencies")

    monkeypatch.setattr(litestar._kwargs.kwargs_model, "create_task_group", no_task_group)
    # Opening a campaign takes the runtime (after the platform), its views and the actor.
    opened = await client.post("/api/v1/tenants/saq/campaigns", json=campaign_body())
    assert opened.status_code == 201, opened.text
    listed = await client.get("/api/v1/tenants/saq/campaigns")
    assert [c["id"] for c in listed.json()] == [opened.json()["id"]]


async def test_a_read_on_the_event_loop_makes_no_thread_hop_for_the_apps_hooks(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Litestar runs a synchronous hook (`before_request`, …) in a thread: every request would
    pay a thread hop for a check that never waits. A kept list is answered on the event loop,
    its session read together with others' (`api.platform.batched`): no hook goes to a thread."""
    assert (await client.get("/api/v1/tenants/saq/campaigns")).status_code == 200
    hops: list[Any] = []
    original = litestar.utils.sync.sync_to_thread

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(litestar.utils.sync, "sync_to_thread", counting)
    for _ in range(3):
        assert (await client.get("/api/v1/tenants/saq/campaigns")).status_code == 200
    assert hops == []


async def test_an_unknown_route_is_a_problem(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
