"""Every rule of the applicant channel, broken: a problem naming the field and rule; nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.api.test_submissions import PDF, SAQ, journey, qc_result, team
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]

REGISTRATION = {
    "unit_name": "上海汽车集团股份有限公司",
    "member_unit": False,
    "nature": "国有",
    "key_industries": ["汽车"],
    "key_domain": "制造",
    "address": "上海市静安区威海路489号",
    "postcode": "200041",
    "managing_department": "质量管理部",
    "promoter": {
        "name": "李强",
        "department_and_title": "质量部 主管",
        "mobile": "13912345678",
        "email": "liqiang@saic.example.cn",
    },
    "intents": ["参加活动申报创新型课题"],
}


def registration(**changes: Any) -> dict[str, Any]:
    body = {**REGISTRATION, **changes}
    if "promoter" in changes:
        body["promoter"] = {**REGISTRATION["promoter"], **changes["promoter"]}
    return body


def streaming(client: Client) -> httpx.AsyncClient:
    """A client that streams request bodies into the running app, chunk by chunk."""
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def head(client: Client) -> int | None:
    return client.app.state.platform.tenants["saq"].ledger.recorder.max_notification_id()


def assert_problem(response: Any, status: int, field: str, rule: str) -> None:
    assert response.status_code == status, response.text
    assert (field, rule) in [(e["field"], e["rule"]) for e in response.json()["errors"]], (
        response.text
    )


async def test_a_registration_changes_until_its_window_closes(client: Client, clock: Clock) -> None:
    j = await journey(client)
    created = await client.post(
        f"{SAQ}/campaigns/{j.campaign['id']}/registrations",
        json=registration(),
        headers=j.applicant,
    )
    url = f"{SAQ}/registrations/{created.json()['id']}"
    changed = await client.put(
        url, json=registration(address="上海市静安区威海路500号"), headers=j.applicant
    )
    assert changed.json()["form"]["address"] == "上海市静安区威海路500号"
    clock.now = beijing(2024, 3, 1, 22, 0)
    from aggregates.actor import Role  # noqa: PLC0415
    from tests.api.conftest import sign_in  # noqa: PLC0415

    applicant = await sign_in(client, "saq", Role.APPLICANT_UNIT, "91100000100003962T")
    late = await client.put(url, json=registration(address="迟到的地址"), headers=applicant)
    assert_problem(late, 409, "phase", "window_closed")


async def test_required_attachments(client: Client) -> None:
    j = await journey(client)
    drafted = await j.draft(qc_result())
    response = await j.submit(drafted.json()["id"])
    assert_problem(response, 422, "attachments.report", "required")
    assert_problem(response, 422, "attachments.evidence", "required")


async def test_a_team_must_confirm_and_be_coherent(client: Client) -> None:
    j = await journey(client, "team")
    body = team(no_accident_three_years=False, basic_formal_unit=False)
    drafted = await j.draft(body)
    submission_id = drafted.json()["id"]
    for kind in ("application_form", "report"):
        await j.upload(submission_id, kind, PDF + kind.encode(), f"{kind}.pdf")
    response = await j.submit(submission_id)
    assert_problem(response, 422, "no_accident_three_years", "must_confirm")
    assert_problem(response, 422, "basic_formal_unit", "must_confirm")
    await client.put(
        f"{SAQ}/submissions/{submission_id}",
        json=team(figures={**team()["team"]["figures"], "accidents": 1}),
        headers=j.applicant,
    )
    assert_problem(await j.submit(submission_id), 422, "figures.accidents", "coherent")


async def test_results_per_unit_and_differing_topic_types(client: Client) -> None:
    j = await journey(client, results_per_applicant_max=2)
    first = await j.complete(qc_result("problem_solving"))
    same_type = await j.complete(qc_result("problem_solving"))
    other_type = await j.complete(qc_result("innovative"))
    third = await j.complete(qc_result("innovative"))

    assert (await j.submit(first)).status_code == 200
    assert_problem(await j.submit(same_type), 422, "topic_type", "distinct_topic_types")
    assert (await j.submit(other_type)).json()["serial"] == "SAQ-2024-QC-0002"
    assert_problem(await j.submit(third), 422, "results_per_applicant", "max_results")


async def test_an_executable_renamed_pdf_is_refused(client: Client) -> None:
    j = await journey(client)
    submission_id = (await j.draft(qc_result())).json()["id"]
    before = head(client)
    response = await j.upload(
        submission_id, "report", b"MZ\x90\x00\x03" + b"\x00" * 5000, "成果报告.pdf"
    )
    assert_problem(response, 422, "file", "content_type")
    assert head(client) == before
    assert list((client.app.state.settings.data_dir / "files" / "saq").rglob("*")) == [
        client.app.state.settings.data_dir / "files" / "saq" / "tmp"
    ]


async def test_an_oversized_upload_is_refused_before_it_is_written_whole(client: Client) -> None:
    j = await journey(client, max_mb_report=1)
    submission_id = (await j.draft(qc_result())).json()["id"]
    written: list[int] = []

    async def body() -> Any:  # 3 MB in 64 KiB chunks, counting what the server asks for
        for _ in range(48):
            written.append(1)
            yield PDF[:8] + b"0" * (64 * 1024 - 8)

    async with streaming(client) as http:  # the test client would read the whole body first
        response = await http.post(
            f"{SAQ}/submissions/{submission_id}/attachments/report",
            params={"name": "big.pdf"},
            content=body(),
            headers={**j.applicant, "content-type": "application/octet-stream"},
        )
    assert_problem(response, 413, "file", "max_size")
    assert len(written) < 48  # the server stopped reading past its limit
    store = client.app.state.settings.data_dir / "files" / "saq"
    assert [p for p in store.rglob("*") if p.is_file()] == []


async def test_someone_elses_draft_cannot_be_changed(client: Client) -> None:
    j = await journey(client)
    submission_id = (await j.draft(qc_result())).json()["id"]
    from aggregates.actor import Role  # noqa: PLC0415
    from tests.api.conftest import sign_in  # noqa: PLC0415

    other = await sign_in(client, "saq", Role.APPLICANT_UNIT, "91310000132260250X")
    assert (
        await client.put(f"{SAQ}/submissions/{submission_id}", json=qc_result(), headers=other)
    ).status_code == 404
    assert (
        await client.post(f"{SAQ}/submissions/{submission_id}/submit", headers=other)
    ).status_code == 404


def stored(client: Client) -> dict[str, int]:
    """Every file in saq's file store, its temporary area included: path and size."""
    root = client.app.state.settings.data_dir / "files" / "saq"
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


async def test_a_refused_upload_keeps_nothing(client: Client) -> None:
    """Whatever refuses an upload (the result submitted before or while it streams, the content,
    the size), the file store is as it was, and so is the ledger."""
    j = await journey(client, max_mb_report=1)
    submitted = await j.complete(qc_result())
    assert (await j.submit(submitted)).status_code == 200
    racing = await j.complete(qc_result("innovative"))
    draft = (await j.draft(qc_result("innovative"))).json()["id"]
    before, files = head(client), stored(client)
    assert len(files) == 6

    late = await j.upload(submitted, "report", PDF + b"a later report", "成果报告v2.pdf")
    assert_problem(late, 409, "status", "not_editable")
    assert (stored(client), head(client)) == (files, before)

    async def submitted_meanwhile() -> Any:  # the result is submitted while its file streams
        yield PDF
        assert (await j.submit(racing)).status_code == 200
        yield b"a report that came too late" * 100

    async with streaming(client) as http:
        response = await http.post(
            f"{SAQ}/submissions/{racing}/attachments/report",
            params={"name": "成果报告v2.pdf"},
            content=submitted_meanwhile(),
            headers={**j.applicant, "content-type": "application/octet-stream"},
        )
    assert_problem(response, 409, "status", "not_editable")
    assert stored(client) == files
    before = head(client)  # the racing submit was recorded; nothing else is

    executable = await j.upload(draft, "report", b"MZ\x90\x00\x03" + b"\x00" * 5000, "报告.pdf")
    assert_problem(executable, 422, "file", "content_type")
    declared = await j.upload(draft, "report", PDF + b"0" * (1024 * 1024), "big.pdf")
    assert_problem(declared, 413, "file", "max_size")

    async def undeclared() -> Any:  # no content-length: stopped while it streams
        for _ in range(20):
            yield PDF[:8] + b"0" * (64 * 1024 - 8)

    async with streaming(client) as http:
        response = await http.post(
            f"{SAQ}/submissions/{draft}/attachments/report",
            params={"name": "big.pdf"},
            content=undeclared(),
            headers={**j.applicant, "content-type": "application/octet-stream"},
        )
    assert_problem(response, 413, "file", "max_size")
    assert stored(client) == files
    assert head(client) == before
