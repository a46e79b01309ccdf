"""Who speaks for an enterprise (issue 16 §1, ADR 0017): a claimant sees nothing the enterprise
filed and cannot submit until its licence and letter are checked; the verifiers' queue; an
invited colleague; the mail to the enterprise's accounts; delegation to recommending units."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from tenants.settings import TENANTS_DIR, Settings
from tests.api.claims_support import LETTER, LICENCE, claimant, delivered, documents, mailed_code
from tests.api.conftest import make_account, restart_for_test, sign_in
from tests.api.test_submissions import ICBC, PDF, Journey, journey, qc_result
from tests.support import Clock, PlatformOptions, new_password

Client = AsyncTestClient[Any]
SAQ = "/api/v1/tenants/saq"

pytestmark = pytest.mark.tenants("saq")
REGISTRATION = {
    "unit_name": "中国工商银行股份有限公司上海市分行",
    "member_unit": True,
    "nature": "国有",
    "key_industries": ["金融"],
    "key_domain": "市场服务",
    "address": "上海市浦东新区银城中路8号",
    "postcode": "200120",
    "managing_department": "运营管理部",
    "promoter": {
        "name": "王芳",
        "department_and_title": "运营管理部 经理",
        "mobile": "13800138000",
        "email": "wangfang@icbc.example.cn",
    },
    "intents": ["参加活动申报问题解决型课题"],
}


class Filed:
    """The real enterprise's records in a 2024 QC campaign: its registration, a submitted
    result and a draft."""

    def __init__(self, j: Journey, registration: str, submitted: str, draft: str) -> None:
        self.j, self.registration, self.submitted, self.draft = j, registration, submitted, draft
        self.base = f"{SAQ}/campaigns/{j.campaign['id']}"

    def report_sha(self, submission_id: str) -> str:
        return hashlib.sha256(PDF + b"report" + submission_id.encode()).hexdigest()


async def filed_by_the_enterprise(client: Client) -> Filed:
    j = await journey(client)
    base = f"{SAQ}/campaigns/{j.campaign['id']}"
    registered = await client.post(f"{base}/registrations", json=REGISTRATION, headers=j.applicant)
    assert registered.status_code == 201, registered.text
    submitted = await j.complete(qc_result())
    assert (await j.submit(submitted)).status_code == 200
    drafted = await j.draft(qc_result("innovative"))
    assert drafted.status_code == 201, drafted.text
    return Filed(j, registered.json()["id"], submitted, drafted.json()["id"])


async def sees_nothing_filed(client: Client, filed: Filed, who: dict[str, str]) -> None:
    """Every read and change of the enterprise's records answers as if they did not exist."""
    listed = await client.get(f"{filed.base}/submissions", headers=who)
    assert listed.status_code == 200
    ids = {r["submission_id"] for r in listed.json()["items"]}
    assert not ids & {filed.submitted, filed.draft}
    for submission_id in (filed.submitted, filed.draft):
        url = f"{SAQ}/submissions/{submission_id}"
        sha = filed.report_sha(submission_id)
        attempts = {
            "show": await client.get(url, headers=who),
            "edit": await client.put(url, json=qc_result(topic_name="改"), headers=who),
            "download": await client.get(f"{url}/attachments/{sha}", headers=who),
            "remove": await client.delete(f"{url}/attachments/{sha}", headers=who),
            "upload": await client.post(
                f"{url}/attachments/evidence",
                params={"name": "x.pdf"},
                content=PDF,
                headers={**who, "content-type": "application/octet-stream"},
            ),
            "certificate": await client.get(
                f"{filed.base}/results/{submission_id}/certificate.pdf", headers=who
            ),
        }
        assert {k: r.status_code for k, r in attempts.items()} == dict.fromkeys(attempts, 404)
    registration = f"{SAQ}/registrations/{filed.registration}"
    assert (await client.get(registration, headers=who)).status_code == 404
    assert (await client.get(f"{filed.base}/registrations/mine", headers=who)).status_code == 404
    changed = await client.put(registration, json=REGISTRATION, headers=who)
    assert changed.status_code == 404


async def test_a_claimant_sees_nothing_the_enterprise_filed_and_cannot_submit_its_own(
    client: Client,
) -> None:
    filed = await filed_by_the_enterprise(client)
    impostor = await claimant(client, "saq", ICBC, "impostor@example.cn")

    await sees_nothing_filed(client, filed, impostor)

    # Its own draft it prepares, reads, edits and completes; it cannot submit it.
    own = Journey(client, filed.j.campaign, impostor, filed.j.unit)
    mine = await own.complete(qc_result("innovative", group_name="冒名小组"))
    listed = await client.get(f"{filed.base}/submissions", headers=impostor)
    assert [r["submission_id"] for r in listed.json()["items"]] == [mine]
    assert (await client.get(f"{SAQ}/submissions/{mine}", headers=impostor)).status_code == 200
    refused = await own.submit(mine)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["rule"] == "awaiting_verification"
    assert "核验" in refused.json()["errors"][0]["message"]
    me = (await client.get(f"{SAQ}/me", headers=impostor)).json()
    assert me["speaks_for"] == []
    assert [(c["credit_code"], c["status"]) for c in me["claims"]] == [
        (ICBC, "awaiting_verification")
    ]
    # The enterprise's own account sees the claimant's draft filed under its code.
    theirs = await client.get(f"{filed.base}/submissions", headers=filed.j.applicant)
    assert mine in {r["submission_id"] for r in theirs.json()["items"]}


async def the_refused_claimant_reads_why_and_may_claim_again(
    client: Client, filed: Filed, impostor: dict[str, str], claim: str
) -> None:
    """Still nothing, cannot submit, reads why; it may claim again with new documents."""
    await sees_nothing_filed(client, filed, impostor)
    own = Journey(client, filed.j.campaign, impostor, filed.j.unit)
    mine = await own.complete(qc_result("innovative"))
    blocked = await own.submit(mine)
    assert blocked.status_code == 409 and blocked.json()["errors"][0]["rule"] == "claim_refused"
    me = (await client.get(f"{SAQ}/me", headers=impostor)).json()
    assert (me["claims"][0]["status"], me["claims"][0]["reason"]) == (
        "refused",
        "授权委托书未加盖公章",
    )
    _, told = delivered(client, "saq", "impostor@example.cn")[-1]
    assert "授权委托书未加盖公章" in told
    # It may claim again with new documents: the claim awaits verification once more.
    again = await client.post(
        f"{SAQ}/me/enterprise-claims",
        json={"credit_code": ICBC, **documents("impostor-again")},
        headers=impostor,
    )
    assert again.status_code == 201, again.text
    assert again.json()["claims"][0]["status"] == "awaiting_verification"
    await sees_nothing_filed(client, filed, impostor)
    queued = await client.get(f"{SAQ}/enterprise-claims")
    assert "impostor@example.cn" in {c["login"] for c in queued.json()}
    refused = await client.post(f"{claim}/refuse", json={"reason": "营业执照与单位名称不符"})
    assert refused.status_code == 200


async def test_the_secretariat_opens_the_documents_refuses_one_claim_and_accepts_another(
    client: Client,
) -> None:
    filed = await filed_by_the_enterprise(client)
    impostor = await claimant(client, "saq", ICBC, "impostor@example.cn")
    colleague = await claimant(client, "saq", ICBC, "lisi@icbc.example.cn", name="李四")

    queue = await client.get(f"{SAQ}/enterprise-claims")
    assert queue.status_code == 200, queue.text
    claims = {c["login"]: c for c in queue.json()}
    assert set(claims) == {"impostor@example.cn", "lisi@icbc.example.cn"}
    first = claims["impostor@example.cn"]
    assert (first["credit_code"], first["status"]) == (ICBC, "awaiting_verification")
    assert {f["document"] for f in first["files"]} == {"business_licence", "authorisation_letter"}
    for f in first["files"]:
        got = await client.get(first["file_urls"][f["sha256"]])
        assert got.status_code == 200
        expected = LICENCE if f["document"] == "business_licence" else LETTER
        assert got.content == expected + b"impostor@example.cn"
        assert got.headers["content-type"].startswith(f["content_type"])
    # Neither an applicant nor, where the tenant does not delegate, a recommending unit decides.
    claim = f"{SAQ}/enterprise-claims/{first['account_id']}/{ICBC}"
    assert (await client.get(f"{SAQ}/enterprise-claims", headers=impostor)).status_code == 403
    assert (await client.get(f"{SAQ}/enterprise-claims", headers=filed.j.unit)).json() == []
    assert (await client.post(f"{claim}/accept", headers=filed.j.unit)).status_code == 404

    refused = await client.post(f"{claim}/refuse", json={"reason": "授权委托书未加盖公章"})
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["reason"]) == (
        "refused",
        "授权委托书未加盖公章",
    )
    twice = await client.post(f"{claim}/refuse", json={"reason": "再次"})
    assert twice.status_code == 409

    await the_refused_claimant_reads_why_and_may_claim_again(client, filed, impostor, claim)

    # The other claim is accepted: that account sees the enterprise's records and submits.
    second = claims["lisi@icbc.example.cn"]
    accepted = await client.post(f"{SAQ}/enterprise-claims/{second['account_id']}/{ICBC}/accept")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["via"]) == ("verified", "secretariat")
    shown = await client.get(f"{SAQ}/submissions/{filed.submitted}", headers=colleague)
    assert shown.status_code == 200
    listed = await client.get(f"{filed.base}/submissions", headers=colleague)
    assert {filed.submitted, filed.draft} <= {r["submission_id"] for r in listed.json()["items"]}
    assert (
        await client.get(f"{filed.base}/registrations/mine", headers=colleague)
    ).status_code == 200
    verified = Journey(client, filed.j.campaign, colleague, filed.j.unit)
    submitted = await verified.submit(await verified.complete(qc_result("innovative")))
    assert submitted.status_code == 200, submitted.text
    assert (await client.get(f"{SAQ}/enterprise-claims")).json() == []
    history = await client.get(f"{SAQ}/enterprise-claims", params={"status": "refused"})
    assert [c["login"] for c in history.json()] == ["impostor@example.cn"]


async def test_an_invited_colleague_speaks_for_the_enterprise(client: Client) -> None:
    filed = await filed_by_the_enterprise(client)
    impostor = await claimant(client, "saq", ICBC, "impostor@example.cn")
    invite = f"{SAQ}/enterprises/{ICBC}/invitations"

    invited = await client.post(
        invite, json={"login": "zhaoliu@icbc.example.cn", "name": "赵六"}, headers=filed.j.applicant
    )
    assert invited.status_code == 201, invited.text
    password = new_password()
    code = mailed_code(client, "saq", "zhaoliu@icbc.example.cn")
    accepted = await client.post(
        f"{SAQ}/invitations/accept", json={"token": code, "password": password}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["speaks_for"] == [ICBC]
    assert accepted.json()["claims"][0]["via"] == "invitation"
    session = await client.post(
        f"{SAQ}/session", json={"login": "zhaoliu@icbc.example.cn", "password": password}
    )
    client.cookies.clear()
    colleague = {"Authorization": f"Bearer {session.json()['token']}"}
    assert (
        await client.get(f"{SAQ}/submissions/{filed.submitted}", headers=colleague)
    ).status_code == 200

    # Only an account that speaks for the enterprise invites, and only for it.
    pending = await client.post(
        invite, json={"login": "x@example.cn", "name": "某人"}, headers=impostor
    )
    assert pending.status_code == 409
    assert pending.json()["errors"][0]["rule"] == "awaiting_verification"
    other = await client.post(
        f"{SAQ}/enterprises/91310000MA1FL0000X/invitations",
        json={"login": "y@example.cn", "name": "某人"},
        headers=filed.j.applicant,
    )
    assert other.status_code == 404
    ledger = client.app.state.platform.tenants["saq"].ledger
    assert ledger.find_account("x@example.cn") is None
    assert ledger.find_account("y@example.cn") is None


async def test_the_enterprise_s_accounts_are_told_when_someone_claims_it(client: Client) -> None:
    verified, _ = make_account(client, "saq", Role.APPLICANT_UNIT, ICBC)
    elsewhere, _ = make_account(client, "saq", Role.APPLICANT_UNIT, "91310000132200821H")

    await claimant(client, "saq", ICBC, "impostor@example.cn")
    await claimant(client, "saq", ICBC, "another@example.cn")

    told = delivered(client, "saq", verified)
    assert len(told) == 2
    assert "有人申请代表贵单位" in told[0][0]
    assert "impostor@example.cn" in told[0][1] and "another@example.cn" in told[1][1]
    assert delivered(client, "saq", elsewhere) == []
    # A claimant awaiting verification is not told of the next claim.
    assert not any(
        "申请代表" in subject for subject, _ in delivered(client, "saq", "impostor@example.cn")
    )


async def test_a_registration_whose_letter_is_not_a_document_records_and_keeps_nothing(
    client: Client,
) -> None:
    body = {
        "login": "bad@example.cn",
        "name": "王五",
        "password": new_password(),
        "enterprise_name": "某公司",
        "credit_code": ICBC,
        "business_licence": {"name": "营业执照.pdf", "content": "JVBERi0xLjQK"},
        "authorisation_letter": {"name": "letter.exe", "content": "TVqQAAMAAAAEAAAA"},
    }
    refused = await client.post(f"{SAQ}/registrations", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "authorisation_letter.content"
    assert client.app.state.platform.tenants["saq"].ledger.find_account("bad@example.cn") is None
    missing = await client.post(
        f"{SAQ}/registrations", json={k: v for k, v in body.items() if k != "business_licence"}
    )
    assert missing.status_code in (400, 422)
    root = client.app.state.platform.tenants["saq"].files.root
    assert [p for p in root.rglob("*") if p.is_file()] == []


@pytest.fixture
async def delegating(
    shared_app: Litestar,
    settings: Settings,
    clock: Clock,
    platform_options: PlatformOptions,
    tmp_path: Path,
) -> AsyncIterator[Client]:
    """The app where Shanghai delegates verifying claims to its recommending units, signed in as
    its secretariat (the session's app, started on a registry of its own)."""
    folder = tmp_path / "tenants"
    folder.mkdir()
    for path in TENANTS_DIR.glob("*.toml"):
        shutil.copy(path, folder / path.name)
    saq = folder / "saq.toml"
    saq.write_text('claim_verifiers = "recommending_units"\n' + saq.read_text("utf-8"), "utf-8")
    delegating = msgspec.structs.replace(settings, tenants_dir=folder)
    restart_for_test(shared_app, delegating, clock, platform_options)
    async with AsyncTestClient(shared_app) as client:
        client.headers.update(await sign_in(client, "saq", Role.SECRETARIAT))
        yield client


async def test_a_recommending_unit_verifies_the_claims_of_enterprises_under_it(
    delegating: Client,
) -> None:
    client = delegating
    j = await journey(client)
    impostor = await claimant(client, "saq", ICBC, "newcomer@icbc.example.cn")
    drafted = await Journey(client, j.campaign, impostor, j.unit).draft(qc_result())  # pudong
    assert drafted.status_code == 201, drafted.text
    jingan = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "jingan")

    queue = await client.get(f"{SAQ}/enterprise-claims", headers=j.unit)
    assert [c["login"] for c in queue.json()] == ["newcomer@icbc.example.cn"]
    claim = queue.json()[0]
    url = f"{SAQ}/enterprise-claims/{claim['account_id']}/{ICBC}"
    assert (await client.get(f"{SAQ}/enterprise-claims", headers=jingan)).json() == []
    assert (await client.post(f"{url}/accept", headers=jingan)).status_code == 404
    licence = next(f for f in claim["files"] if f["document"] == "business_licence")
    got = await client.get(claim["file_urls"][licence["sha256"]], headers=j.unit)
    assert got.status_code == 200 and got.content.startswith(b"%PDF")

    accepted = await client.post(f"{url}/accept", headers=j.unit)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["via"] == "recommending_unit"
    me = (await client.get(f"{SAQ}/me", headers=impostor)).json()
    assert me["speaks_for"] == [ICBC]


async def test_no_route_answers_a_claimant_with_the_enterprise_s_records(client: Client) -> None:
    """Every route of the route table that names a submission or a registration, called by a
    claimant awaiting verification and by a refused one on the enterprise's records: nothing
    answered, nothing recorded."""
    filed = await filed_by_the_enterprise(client)
    impostor = await claimant(client, "saq", ICBC, "impostor@example.cn")
    values = {
        "tenant": "saq",
        "campaign_id": filed.j.campaign["id"],
        "registration_id": filed.registration,
        "kind": "report",
        "sha256": filed.report_sha(filed.submitted),
    }
    ledger = client.app.state.platform.tenants["saq"].ledger
    walked = set()
    for refused in (False, True):
        if refused:
            me = (await client.get(f"{SAQ}/me", headers=impostor)).json()
            url = f"{SAQ}/enterprise-claims/{me['id']}/{ICBC}/refuse"
            assert (await client.post(url, json={"reason": "冒名"})).status_code == 200
        for route in client.app.routes:
            if not re.search(r"\{(submission_id|registration_id)", route.path):
                continue
            for handler in getattr(route, "route_handlers", []):
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    for record in (filed.submitted, filed.draft):
                        path = re.sub(
                            r"\{(\w+)(?::\w+)?\}",
                            lambda m, r=record: values.get(m.group(1), r),
                            route.path,
                        )
                        head = ledger.recorder.max_notification_id()
                        body = {} if method in ("POST", "PUT") else None
                        got = await client.request(method, path, json=body, headers=impostor)
                        assert got.status_code in (403, 404, 422), (method, path, got.status_code)
                        assert ledger.recorder.max_notification_id() == head, (method, path)
                        walked.add((method, route.path))
    assert len(walked) >= 10
