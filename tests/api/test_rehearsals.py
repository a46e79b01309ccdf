"""Rehearsal campaigns (演练, ADR 36) over HTTP, on SQLite and PostgreSQL: a rehearsal beside the
real campaign of the same year has its own id and serials, is never forwarded nor counted, its
certificates are samples that do not verify, and the secretariat deletes it with everything
filed in it (the events stay in the log)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.api.national_world import CAQ, Forwarder, national_campaign
from tests.api.published_world import (
    Client,
    Published,
    Secretariat,
    campaign_body,
    cheap_passwords,
    ok,
    publish_campaign,
    tenant_config,
)
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq", "caq")

SAQ = "/api/v1/tenants/saq"
UNITS = ("huangpu", "xuhui")


async def figures(client: Client, secretariat: Secretariat, campaign_id: str) -> Any:
    response = await client.get(
        f"{SAQ}/campaigns/{campaign_id}/statistics", headers=await secretariat.headers()
    )
    return ok(response, 200, "real campaign's figures")


async def test_a_rehearsal_beside_the_real_campaign_leaves_the_real_one_untouched(
    client: Client, clock: Clock
) -> None:
    real = await publish_campaign(client, clock, "saq", units=UNITS, per_unit=1)
    secretariat = Secretariat(client, clock, "saq")
    before = await figures(client, secretariat, real.campaign_id)
    real_serials = [s["serial"] for s in real.submissions]

    rehearsal = await publish_campaign(
        client, clock, "saq", units=UNITS, per_unit=1, rehearsal=True
    )

    assert rehearsal.campaign_id != real.campaign_id
    assert [s["serial"] for s in rehearsal.submissions] == [
        "SAQ-2024-QC-演练-0001",
        "SAQ-2024-QC-演练-0002",
    ]
    assert real_serials == ["SAQ-2024-QC-0001", "SAQ-2024-QC-0002"]
    headers = await secretariat.headers()
    listed = ok(await client.get(f"{SAQ}/campaigns", headers=headers), 200, "list")
    assert [(c["id"], c["rehearsal"]) for c in listed] == [
        (real.campaign_id, False),
        (rehearsal.campaign_id, True),
    ]
    shown = ok(
        await client.get(f"{SAQ}/campaigns/{rehearsal.campaign_id}", headers=headers), 200, "show"
    )
    assert shown["rehearsal"] is True

    # Statistics: the real campaign's figures are what they were; the rehearsal is never counted.
    assert await figures(client, secretariat, real.campaign_id) == before
    overview = ok(await client.get(f"{SAQ}/statistics", headers=headers), 200, "overview")
    assert rehearsal.campaign_id not in str(overview)
    refused = await client.get(
        f"{SAQ}/campaigns/{rehearsal.campaign_id}/statistics", headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["rule"] == "rehearsal"

    # Certificates: the real one verifies; the rehearsal's is a sample and says so.
    code = real.graded()[0]["certificate_code"]
    sample = rehearsal.graded()[0]["certificate_code"]
    assert sample.startswith("SAQ-2024-QC-YL-"), sample
    verified = ok(await client.get(f"/api/v1/certificates/{code}"), 200, "verify real")
    assert verified["valid"] is True
    answered = ok(await client.get(f"/api/v1/certificates/{sample}"), 200, "verify sample")
    assert {k: v for k, v in answered.items() if v is not None} == {
        "code": sample,
        "valid": False,
        "sample": True,
    }
    page = await client.get("/verify", params={"code": sample})
    assert "演练活动的样本证书" in page.text and "证书有效" not in page.text
    pdf = await client.get(
        f"{SAQ}/campaigns/{rehearsal.campaign_id}/results/{rehearsal.graded()[0]['id']}"
        "/certificate.pdf",
        headers=headers,
    )
    assert pdf.status_code == 200 and sample.encode() in pdf.content

    # Forwarding: the rehearsal's results never go to national; the real one's still do.
    await open_national(client, clock)
    refused_forward = await Forwarder(client, clock, rehearsal).forward(rehearsal.graded()[0], 409)
    assert refused_forward["errors"][0]["rule"] == "rehearsal", refused_forward
    await Forwarder(client, clock, real).forward(real.graded()[0])


async def open_national(client: Client, clock: Clock) -> None:
    clock.now = beijing(2024, 6, 2, 9, 0)
    with cheap_passwords(client, "caq"):
        headers = await Secretariat(client, clock, "caq").headers()
    ok(await client.post(f"{CAQ}/campaigns", json=national_campaign(), headers=headers), 201, "caq")


async def rehearse(client: Client, clock: Clock) -> tuple[Published, Published]:
    real = await publish_campaign(client, clock, "saq", units=UNITS[:1], per_unit=1)
    rehearsal = await publish_campaign(
        client, clock, "saq", units=UNITS[:1], per_unit=1, rehearsal=True
    )
    return real, rehearsal


async def test_the_secretariat_deletes_a_rehearsal_with_everything_filed_in_it(
    client: Client, clock: Clock
) -> None:
    real, rehearsal = await rehearse(client, clock)
    secretariat = Secretariat(client, clock, "saq")
    headers = await secretariat.headers()
    base = f"{SAQ}/campaigns/{rehearsal.campaign_id}"
    ledger = client.app.state.platform.tenants["saq"].ledger
    stored = len(list(ledger.events.get(UUID(rehearsal.campaign_id))))

    no_reason = await client.post(f"{base}/delete-rehearsal", json={"reason": " "}, headers=headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    real_refused = await client.post(
        f"{SAQ}/campaigns/{real.campaign_id}/delete-rehearsal",
        json={"reason": "试一试"},
        headers=headers,
    )
    assert real_refused.status_code == 409
    assert real_refused.json()["errors"][0]["rule"] == "not_a_rehearsal"

    deleted = ok(
        await client.post(f"{base}/delete-rehearsal", json={"reason": "培训结束"}, headers=headers),
        200,
        "delete the rehearsal",
    )
    assert deleted["status"] == "deleted"

    assert (await client.get(base, headers=headers)).status_code == 404
    assert (await client.get(f"{base}/submissions", headers=headers)).status_code == 404
    filed = f"{SAQ}/submissions/{rehearsal.submissions[0]['id']}"
    assert (await client.get(filed, headers=headers)).status_code == 404
    listed = ok(await client.get(f"{SAQ}/campaigns", headers=headers), 200, "list")
    assert [c["id"] for c in listed] == [real.campaign_id]
    real_entries = ok(
        await client.get(f"{SAQ}/campaigns/{real.campaign_id}/submissions", headers=headers),
        200,
        "real entries",
    )
    assert [e["serial"] for e in real_entries["items"]] == ["SAQ-2024-QC-0001"]
    sample = rehearsal.graded()[0]["certificate_code"] if rehearsal.graded() else None
    if sample:
        answered = ok(await client.get(f"/api/v1/certificates/{sample}"), 200, "verify")
        assert answered["valid"] is False
    # The events stay in the log: the rehearsal's and the deletion's.
    assert len(list(ledger.events.get(UUID(rehearsal.campaign_id)))) == stored + 1

    # Another rehearsal may be opened now, under its own id.
    again = await publish_campaign(
        client, clock, "saq", units=UNITS[:1], per_unit=1, rehearsal=True
    )
    assert again.campaign_id not in (real.campaign_id, rehearsal.campaign_id)
    assert again.submissions[0]["serial"] == "SAQ-2024-QC-演练-0001"


async def test_only_one_live_rehearsal_per_programme_and_year(client: Client, clock: Clock) -> None:
    clock.now = beijing(2024, 1, 15, 9, 30)
    secretariat = Secretariat(client, clock, "saq")
    with cheap_passwords(client, "saq"):
        headers = await secretariat.headers()
    body = {**campaign_body(tenant_config(client, "saq"), 2024), "rehearsal": True}
    first = await client.post(f"{SAQ}/campaigns", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["rehearsal"] is True
    second = await client.post(f"{SAQ}/campaigns", json=body, headers=headers)
    assert second.status_code == 409
    assert second.json()["errors"][0]["rule"] == "one_rehearsal_per_year"
    # The rehearsal took nothing of the real year: the real campaign still opens.
    real = await client.post(f"{SAQ}/campaigns", json={**body, "rehearsal": False}, headers=headers)
    assert real.status_code == 201 and real.json()["rehearsal"] is False
