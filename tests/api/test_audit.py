"""Audit reads, on SQLite and PostgreSQL: the history of a submission that went from draft to a
national outcome, and its state at past moments and versions, equal to the state replayed there."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest

from aggregates.actor import Role
from aggregates.audit_service import state_of
from tests.api.conftest import sign_in
from tests.api.published_world import Client, ok
from tests.api.statistics_world import statistics_world
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq", "caq")

SAQ = "/api/v1/tenants/saq"
STAGES = [
    "Submission.Drafted",
    "Submission.AttachmentAdded",
    "Submission.AttachmentAdded",
    "Submission.AttachmentAdded",
    "Submission.Submitted",
    "Submission.FormalReviewPassed",
    "Submission.ForwardedToNational",
    "Submission.NationalOutcomeRecorded",
]


def replayed(client: Client, submission_id: str, version: int) -> dict[str, Any]:
    ledger = client.app.state.platform.tenants["saq"].ledger
    aggregate = ledger.repository.get(UUID(submission_id), version=version)
    return msgspec.to_builtins(state_of(aggregate), enc_hook=str)  # type: ignore[no-any-return]


async def test_a_submissions_history_and_its_past_states(client: Client, clock: Clock) -> None:
    world = await statistics_world(client, clock)
    forwarded = world.this_year.graded()[0]
    auditor = await sign_in(client, "saq", Role.AUDITOR)
    url = f"{SAQ}/audit/submission/{forwarded['id']}"

    history = ok(await client.get(f"{url}/history", headers=auditor), 200, "history")
    steps = history["items"]
    assert [s["event"] for s in steps] == STAGES
    assert [s["version"] for s in steps] == list(range(1, len(STAGES) + 1))
    assert history["next_after"] is None
    drafted, submitted, passed = steps[0], steps[4], steps[5]
    assert (drafted["what"], drafted["actor_role"], drafted["actor_role_name"]) == (
        "起草申报",
        "applicant_unit",
        "申报单位",
    )
    assert submitted["changes"]["status"] == {"before": "draft", "after": "submitted"}
    assert submitted["changes"]["serial"] == {"before": None, "after": forwarded["serial"]}
    assert submitted["recorded"] == {"serial": forwarded["serial"]}
    assert (passed["what"], passed["actor_role"]) == ("形式审查通过", "secretariat")
    assert passed["changes"]["formal_review"] == {"before": None, "after": "passed"}
    assert len(steps[3]["changes"]["attachments_state"]["after"]) == 3
    assert steps[-1]["changes"]["national"]["after"]["formal_review"] == "passed"
    assert all(datetime.fromisoformat(s["at"]).utcoffset() is not None for s in steps)
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)

    english = ok(
        await client.get(f"{url}/history", params={"lang": "en", "limit": 3}, headers=auditor),
        200,
        "history in English, paged",
    )
    assert [s["what"] for s in english["items"]] == [
        "Drafted",
        "Attachment added",
        "Attachment added",
    ]
    assert english["next_after"] == 3
    rest = ok(
        await client.get(f"{url}/history", params={"after": 3}, headers=auditor), 200, "page 2"
    )
    assert [s["version"] for s in rest["items"]] == list(range(4, len(STAGES) + 1))

    for step in steps:
        at = ok(
            await client.get(f"{url}/state", params={"at": step["at"]}, headers=auditor),
            200,
            f"state at {step['at']}",
        )
        assert at["version"] == step["version"]
        assert at["state"] == replayed(client, forwarded["id"], step["version"])
    fourth = ok(await client.get(f"{url}/state", params={"version": 4}, headers=auditor), 200, "v4")
    assert fourth["state"]["status"] == "draft" and len(fourth["state"]["attachments_state"]) == 3
    before = await client.get(
        f"{url}/state", params={"at": "2000-01-01T00:00:00+08:00"}, headers=auditor
    )
    assert before.status_code == 404, before.text

    # The wrong kind, another tenant's auditor, and an applicant unit find nothing to read.
    wrong = await client.get(f"{SAQ}/audit/campaign/{forwarded['id']}/history", headers=auditor)
    assert wrong.status_code == 404, wrong.text
    elsewhere = await sign_in(client, "caq", Role.AUDITOR)
    other = await client.get(url.replace("/saq/", "/caq/") + "/history", headers=elsewhere)
    assert other.status_code == 404, other.text
    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, forwarded["credit_code"])
    refused = await client.get(f"{url}/history", headers=applicant)
    assert refused.status_code in (403, 404), refused.text
    await its_audit_package_and_the_reads_recorded(client, forwarded, auditor)


async def its_audit_package_and_the_reads_recorded(
    client: Client, forwarded: dict[str, Any], auditor: dict[str, str]
) -> None:
    runtime = client.app.state.platform.tenants["saq"]
    url = f"{SAQ}/audit/submission/{forwarded['id']}"
    version = runtime.ledger.get_submission(UUID(forwarded["id"])).version
    package = ok(await client.get(f"{url}/package.json", headers=auditor), 200, "package")
    assert package["subject"] == "submission" and forwarded["serial"] in package["title"]
    [history] = package["histories"]
    assert [s["event"] for s in history["steps"]] == STAGES
    assert package["recomputation"] is None or package["recomputation"]["intact"] is True
    chain = package["chain"]
    assert chain["intact"] is True and chain["records_intact"] is True
    links = dict(runtime.chain.links())
    assert [p["version"] for p in chain["links"]] == list(range(1, len(STAGES) + 1))
    assert all(links[p["position"]].hex() == p["link"] for p in chain["links"])
    report = await client.get(f"{url}/package.pdf", headers=auditor)
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    assert report.headers["content-type"] == "application/pdf"
    me = ok(await client.get(f"{SAQ}/me", headers=auditor), 200, "me")
    account = await client.get(f"{SAQ}/audit/account/{me['id']}/package.json", headers=auditor)
    assert account.status_code == 404, account.text

    # Every read is on the auditor's trail of the day; the submission itself is as it was.
    trail = ok(await client.get(f"{SAQ}/audit/reads", headers=auditor), 200, "reads")
    read = [(r["what"], r["record_id"], r["detail"].get("form")) for r in trail["reads"]]
    assert {
        ("history", forwarded["id"], None),
        ("state", forwarded["id"], None),
        ("package", forwarded["id"], "json"),
        ("package", forwarded["id"], "pdf"),
    } <= set(read)
    assert trail["account_id"] == me["id"] and all(r["role"] == "auditor" for r in trail["reads"])
    assert runtime.ledger.get_submission(UUID(forwarded["id"])).version == version


async def test_an_accounts_history_hides_the_password_hash(client: Client) -> None:
    auditor = await sign_in(client, "saq", Role.AUDITOR)
    me = ok(await client.get(f"{SAQ}/me", headers=auditor), 200, "me")
    history = ok(
        await client.get(f"{SAQ}/audit/account/{me['id']}/history", headers=auditor), 200, "history"
    )
    registered = history["items"][0]
    assert registered["what"] == "登记账户"
    assert registered["recorded"]["password_hash"] == "（已隐藏）"
    assert registered["changes"]["password_hash"]["after"] == "（已隐藏）"
    state = ok(await client.get(f"{SAQ}/audit/account/{me['id']}/state", headers=auditor), 200, "")
    assert state["state"]["password_hash"] == "（已隐藏）"
