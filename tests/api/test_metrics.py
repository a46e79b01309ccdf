"""`GET /metrics`: Prometheus text with every tenant and every read model, agreeing with /health."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from projections.service import PROJECTIONS
from tests.support import open_qc_campaign

Samples = dict[str, list[tuple[dict[str, str], float]]]


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

    response = await anonymous.get("/metrics")  # no session: scraped like /health
    health = (await anonymous.get("/health")).json()["tenants"]

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


async def test_request_metrics_name_routes_not_the_ids_in_their_paths(
    anonymous: AsyncTestClient[Any],
) -> None:
    secret = str(uuid.uuid4())
    await anonymous.get(f"/api/v1/tenants/saq/campaigns/{secret}")
    await anonymous.get("/verify", params={"code": "SAQ-2024-QC-ABCDEFGH"})

    text = (await anonymous.get("/metrics")).text

    paths = {labels["path"] for labels, _ in samples(text)["qcflow_requests_total"]}
    assert "/api/v1/tenants/{tenant}/campaigns/{campaign_id}" in paths, paths
    assert secret not in text and "ABCDEFGH" not in text
