"""`GET /metrics`: Prometheus text with every tenant and every read model, agreeing with the
detail of /health; both only with the operations token, /health otherwise up or down only."""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid
from collections import defaultdict
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from aggregates.actor import Role
from projections.service import PROJECTIONS
from tenants.settings import Settings
from tests.api.conftest import sign_in
from tests.support import open_qc_campaign

Samples = dict[str, list[tuple[dict[str, str], float]]]
TOKEN = secrets.token_urlsafe(32)
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


SAQ_ONLY = pytest.mark.tenants("saq")
"""The tests that read saq alone (the first reads every tenant of the registry)."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings, with an operations token."""
    return msgspec.structs.replace(settings, metrics_token=TOKEN)


def samples(text: str) -> Samples:
    """Each metric's samples: their labels and value."""
    found: Samples = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((sample.labels, sample.value))
    return found


def value(metrics: Samples, name: str, **labels: str) -> float:
    """The value of the one sample of `name` with exactly these labels."""
    (found,) = [v for sample_labels, v in metrics[name] if sample_labels == labels]
    return found


async def test_metrics_report_every_tenant_and_read_model_as_health_does(
    anonymous: AsyncTestClient[Any],
) -> None:
    platform, views = anonymous.app.state.platform, anonymous.app.state.views
    for year in range(2001, 2004):
        saved = open_qc_campaign(platform.tenants["saq"].ledger, year)
    assert views["saq"].wait(saved.position, timeout=10)
    for _ in range(200):  # the forwarding followers scan saq's log too
        if all(s.lag == 0 for code in platform.tenants for s in views.statuses(code)):
            break
        time.sleep(0.05)

    response = await anonymous.get("/metrics", headers=OPERATOR)  # a token, not a session
    health = (await anonymous.get("/health", headers=OPERATOR)).json()["tenants"]

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    metrics = samples(response.text)
    assert set(health) == set(platform.tenants)
    assert {labels["tenant"] for labels, _ in metrics["qcflow_ledger_head"]} == set(health)
    for code, tenant in health.items():
        assert value(metrics, "qcflow_store_up", tenant=code, backend=tenant["backend"]) == 1
        assert value(metrics, "qcflow_ledger_head", tenant=code) == tenant["head"]
        names = {p["name"] for p in tenant["projections"]}
        assert {p.name for p in PROJECTIONS} <= names
        lags = metrics["qcflow_projection_lag"]
        assert {labels["projection"] for labels, _ in lags if labels["tenant"] == code} == names
        for p in tenant["projections"]:
            kind = "read_model" if p["name"] in views[code].runners else "follower"
            labels = {"tenant": code, "projection": p["name"], "kind": kind}
            position = value(metrics, "qcflow_projection_position", **labels)
            head = value(metrics, "qcflow_projection_head", **labels)
            assert (position, head) == (p["position"], p["head"])
            assert value(metrics, "qcflow_projection_lag", **labels) == head - position == p["lag"]
            states = {
                s["state"]: v
                for s, v in metrics["qcflow_projection_state"]
                if {k: s[k] for k in labels} == labels
            }
            assert states[p["state"]] == 1 and sum(states.values()) == 1
    campaign_list = {"tenant": "saq", "projection": "campaign_list", "kind": "read_model"}
    assert value(metrics, "qcflow_projection_position", **campaign_list) == saved.position > 0
    assert value(metrics, "qcflow_projection_state", **campaign_list, state="active") == 1


@SAQ_ONLY
async def test_request_metrics_name_routes_not_the_ids_in_their_paths(
    anonymous: AsyncTestClient[Any],
) -> None:
    secret = str(uuid.uuid4())
    await anonymous.get(f"/api/v1/tenants/saq/campaigns/{secret}")
    await anonymous.get("/verify", params={"code": "SAQ-2024-QC-ABCDEFGH"})

    text = (await anonymous.get("/metrics", headers=OPERATOR)).text

    paths = {labels["path"] for labels, _ in samples(text)["qcflow_requests_total"]}
    assert "/api/v1/tenants/{tenant}/campaigns/{campaign_id}" in paths, paths
    assert secret not in text and "ABCDEFGH" not in text


@SAQ_ONLY
async def test_without_the_token_health_says_up_or_down_and_metrics_nothing(
    anonymous: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    secretariat = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    strangers = [({}, 401), ({"Authorization": f"Bearer {TOKEN[:-1]}x"}, 403), (secretariat, 403)]
    for headers, refused in strangers:
        health = await anonymous.get("/health", headers=headers)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        metrics = await anonymous.get("/metrics", headers=headers)
        assert metrics.status_code == refused, metrics.text
        assert metrics.headers["content-type"].startswith("application/problem+json")
        assert metrics.json()["errors"][0]["rule"] == "operations_token"
        assert "qcflow_" not in metrics.text
    detail = (await anonymous.get("/health", headers=OPERATOR)).json()
    assert detail["status"] == "ok" and detail["tenants"]["saq"]["store"] == "ok"

    # A store that fails: the public learns that it is down, not why; the operator does.
    recorder = anonymous.app.state.platform.tenants["saq"].ledger.recorder
    where = "/srv/qcflow/var/saq/ledger.sqlite"

    def broken() -> int:
        raise sqlite3.OperationalError(f"unable to open database file {where}")

    monkeypatch.setattr(recorder, "max_notification_id", broken)
    down = await anonymous.get("/health")
    assert (down.status_code, down.json()) == (503, {"status": "degraded"})
    assert where not in down.text and "saq" not in down.text
    detail = await anonymous.get("/health", headers=OPERATOR)
    assert detail.status_code == 503
    saq = detail.json()["tenants"]["saq"]
    assert (saq["store"], saq["head"]) == ("unavailable", None) and where in saq["error"]
    metrics = samples((await anonymous.get("/metrics", headers=OPERATOR)).text)
    assert value(metrics, "qcflow_store_up", tenant="saq", backend=saq["backend"]) == 0


@SAQ_ONLY
async def test_without_a_token_configured_there_is_no_detail(
    anonymous: AsyncTestClient[Any],
) -> None:
    settings = msgspec.structs.replace(anonymous.app.state.settings, metrics_token=None)
    anonymous.app.state.settings = settings
    assert (await anonymous.get("/health", headers=OPERATOR)).json() == {"status": "ok"}
    assert (await anonymous.get("/metrics", headers=OPERATOR)).status_code == 403
    empty = await anonymous.get("/metrics", headers={"Authorization": "Bearer "})
    assert empty.status_code == 403, empty.text
