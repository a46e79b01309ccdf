"""Audit reads, on SQLite and PostgreSQL: the history of a submission that went from draft to a
national outcome, and its state at past moments and versions, equal to the state replayed there;
every step of every record's history, of each kind, as the state replayed to its version."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest

from aggregates.actor import Role
from aggregates.ledger.audit import BOOKKEEPING, HIDDEN, state_of
from api.audit.routes import KINDS, Kind
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


def replayed(client: Client, record_id: str, version: int) -> dict[str, Any]:
    ledger = client.app.state.platform.tenants["saq"].ledger
    aggregate = ledger.repository.get(UUID(record_id), version=version)
    return msgspec.to_builtins(state_of(aggregate), enc_hook=str)  # type: ignore[no-any-return]


def records(client: Client, kind: Kind) -> dict[str, int]:
    """Every saq record of the kind, with how many events it has."""
    ledger = client.app.state.platform.tenants["saq"].ledger
    cls = KINDS[kind]
    prefix = f"{cls.__module__}:{cls.__qualname__}."
    counts: dict[str, int] = {}
    for n in ledger.recorder.select_notifications(start=1, limit=10**7):
        if n.topic.startswith(prefix):
            counts[str(n.originator_id)] = counts.get(str(n.originator_id), 0) + 1
    return counts


def as_stored(client: Client, record_id: str, version: int) -> dict[str, Any]:
    """What the event at that version recorded, read afresh from the store (hidden masked)."""
    ledger = client.app.state.platform.tenants["saq"].ledger
    [event] = ledger.events.get(UUID(record_id), gt=version - 1, lte=version)
    recorded = {
        k: "（已隐藏）" if k in HIDDEN and v is not None else v
        for k, v in vars(event).items()
        if k not in BOOKKEEPING | {"actor_id", "actor_role"}
    }
    return msgspec.to_builtins(recorded, enc_hook=str)  # type: ignore[no-any-return]


async def steps_as_replayed(
    client: Client, kind: Kind, record_id: str, auditor: dict[str, str]
) -> list[dict[str, Any]]:
    """Asserts that each step of the record's history shows what its event recorded and, as what
    it changed, the difference between the states replayed to the version before and to its own;
    the steps."""
    url = f"{SAQ}/audit/{kind.value}/{record_id}/history"
    history = ok(await client.get(url, params={"limit": 500}, headers=auditor), 200, url)
    assert history["next_after"] is None
    previous: dict[str, Any] = {}
    for step in history["items"]:
        where = (kind.value, record_id, step["version"], step["event"])
        state = replayed(client, record_id, step["version"])
        changed = {k for k in state.keys() | previous.keys() if state.get(k) != previous.get(k)}
        assert step["changes"] == {
            k: {"before": previous.get(k), "after": state.get(k)} for k in changed
        }, where
        assert step["recorded"] == as_stored(client, record_id, step["version"]), where
        previous = state
    assert [s["version"] for s in history["items"]] == list(range(1, len(history["items"]) + 1))
    return list(history["items"])


async def every_history_step_as_replayed(client: Client, auditor: dict[str, str]) -> None:
    """Every record of every kind the world made (a submission's files added one by one among
    them): each step as the state replayed to it."""
    for kind in Kind:
        found = records(client, kind)
        assert found, f"the world has no {kind.value}"
        for record_id in found:
            steps = await steps_as_replayed(client, kind, record_id, auditor)
            assert len(steps) == found[record_id]


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
    assert rest["items"] == steps[3:]  # the steps skipped are replayed, what follows is the same
    middle = ok(
        await client.get(f"{url}/history", params={"after": 2, "limit": 2}, headers=auditor),
        200,
        "a page in the middle",
    )
    assert (middle["items"], middle["next_after"]) == (steps[2:4], 4)

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
    await every_history_step_as_replayed(client, auditor)


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


async def test_a_later_grant_does_not_show_in_earlier_steps(client: Client) -> None:
    auditor = await sign_in(client, "saq", Role.AUDITOR)
    me = ok(await client.get(f"{SAQ}/me", headers=auditor), 200, "me")
    granted = await client.post(f"{SAQ}/accounts/{me['id']}/grants", json={"role": "secretariat"})
    assert granted.status_code == 200, granted.text
    steps = await steps_as_replayed(client, Kind.ACCOUNT, me["id"], auditor)
    assert [s["event"] for s in steps] == ["Account.Registered", *["Account.RoleGranted"] * 2]
    assert [[g["role"] for g in s["changes"]["grants_state"]["after"]] for s in steps] == [
        [],
        ["auditor"],
        ["auditor", "secretariat"],
    ]
