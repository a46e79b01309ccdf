"""Forwarding to national, on its aggregates: the province's forwarding (window, quota, one
forward per result, withdrawal until national formal review, the report), the national copy of a
forwarded result (read-only origin, no return for correction, outcomes sent back, a late
withdrawal declined), the national intake, and the outcome on the provincial record."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignRules, Contact, Phase, Programme, Window
from aggregates.forwarding import (
    Forwarding,
    ForwardingConflict,
    InvalidForwarding,
    NationalCall,
    national_submission_id,
)
from aggregates.intake import Intake, InvalidIntake
from aggregates.submission import (
    Attachment,
    AttachmentKind,
    InvalidSubmission,
    Submission,
    SubmissionConflict,
    SubmissionStatus,
)
from tests.integration.forwarding_support import dossier
from tests.support import beijing

SEC = Actor("saq-sec", Role.SECRETARIAT)
CAQ_SEC = Actor("caq-sec", Role.SECRETARIAT)
INTAKE = Actor("forwarding:saq", Role.SYSTEM)
FORWARDING_WINDOW = Window(beijing(2024, 6, 1), beijing(2024, 9, 15, 17))
IN_WINDOW = beijing(2024, 7, 1, 10)
CHECKLIST = {"盖章申报表齐全": True, "成果报告齐全": True}


def campaign(tenant: str, timeline: dict[Phase, Window], rules: CampaignRules) -> Campaign:
    opened = Campaign.open(
        tenant=tenant,
        programme=Programme.QC_GROUP,
        year=2024,
        title=f"2024年{tenant}质量管理小组活动",
        document_number=None,
        theme=None,
        co_organisers=[],
        contact=Contact(person="联系人", phone="010-66073178"),
        period_start=date(2023, 1, 1),
        period_end=date(2023, 12, 31),
        rules=rules,
        timeline=timeline,
        actor=SEC,
    )
    opened.collect_events()
    return opened


NATIONAL = campaign(
    "caq",
    {
        Phase.RECOMMENDATION: FORWARDING_WINDOW,
        Phase.FORMAL_REVIEW: Window(beijing(2024, 9, 16), beijing(2024, 9, 30)),
    },
    CampaignRules(recommending_unit_quota=2),
)
PROVINCIAL = campaign(
    "saq", {Phase.SUBMISSION: Window(beijing(2024, 2, 1), beijing(2024, 3, 1))}, CampaignRules()
)


def call(quota: int | None = 2) -> NationalCall:
    return NationalCall("caq", "中国质量协会", NATIONAL, "shanghai", quota)


def forwarding() -> Forwarding:
    started = Forwarding.start(PROVINCIAL, call(), SEC)
    started.collect_events()
    return started


def forward(
    f: Forwarding, n: int = 1, at: Any = IN_WINDOW, evaluation: str = "成果扎实"
) -> tuple[UUID, UUID]:
    submission_id = uuid4()
    body = dossier("saq", PROVINCIAL, submission_id, n) | {"evaluation": evaluation}
    return submission_id, f.forward(call(), submission_id, body, at, SEC)


# The province's forwarding.


def test_a_forward_records_what_travels_and_derives_the_national_id() -> None:
    f = forwarding()
    submission_id, national_id = forward(f)
    (event,) = f.collect_events()
    assert isinstance(event, Forwarding.ResultForwarded)
    assert event.national_campaign_id == NATIONAL.id
    assert national_id == national_submission_id("saq", submission_id)
    assert event.dossier["grade"]["name"] == "优秀级"
    assert event.dossier["roster"][0]["certificate_number"].startswith("SAQ-R-")
    assert f.forwards[str(submission_id)]["evaluation"] == "成果扎实"
    assert national_submission_id("sdaq", submission_id) != national_id


@pytest.mark.parametrize(
    ("at", "state"),
    [(beijing(2024, 5, 31, 23, 59), "尚未开始"), (beijing(2024, 9, 15, 17, 0), "已截止")],
)
def test_a_forward_outside_the_national_window_is_refused_naming_it(at: Any, state: str) -> None:
    f = forwarding()
    with pytest.raises(ForwardingConflict) as refused:
        forward(f, at=at)
    (problem,) = refused.value.problems
    assert problem.field == "national_campaign"
    assert problem.rule == "window_closed"
    assert state in problem.message and "成果推荐" in problem.message
    assert "2024-09-15 17:00" in problem.message
    assert f.collect_events() == []


def test_the_quota_counts_forwards_not_withdrawn() -> None:
    f = forwarding()
    first, _ = forward(f, 1)
    forward(f, 2)
    with pytest.raises(InvalidForwarding) as refused:
        forward(f, 3)
    assert refused.value.problems[0].rule == "quota"
    assert "2 项" in refused.value.problems[0].message
    f.withdraw(first, "数据待核实", False, SEC)
    forward(f, 3)
    assert len(f.active) == 2


def test_a_result_is_forwarded_once_and_not_again_after_its_withdrawal() -> None:
    f = forwarding()
    submission_id = uuid4()
    body = dossier("saq", PROVINCIAL, submission_id, 1)
    f.forward(call(), submission_id, body, IN_WINDOW, SEC)
    with pytest.raises(ForwardingConflict, match="已推荐全国"):
        f.forward(call(), submission_id, body, IN_WINDOW, SEC)
    f.withdraw(submission_id, "撤回", False, SEC)
    with pytest.raises(ForwardingConflict, match="已撤回"):
        f.forward(call(), submission_id, body, IN_WINDOW, SEC)


@pytest.mark.parametrize(("evaluation", "rule"), [("  ", "required"), ("评" * 301, "max_length")])
def test_the_provincial_evaluation_is_required_within_the_national_limit(
    evaluation: str, rule: str
) -> None:
    f = forwarding()
    with pytest.raises(InvalidForwarding) as refused:
        forward(f, evaluation=evaluation)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("evaluation", rule)]


def test_withdrawal_needs_a_reason_and_ends_at_national_formal_review() -> None:
    f = forwarding()
    submission_id, _ = forward(f)
    with pytest.raises(InvalidForwarding, match="原因"):
        f.withdraw(submission_id, " ", False, SEC)
    with pytest.raises(ForwardingConflict, match="全国形式审查已完成"):
        f.withdraw(submission_id, "撤回", True, SEC)
    with pytest.raises(ForwardingConflict, match="未推荐全国"):
        f.withdraw(uuid4(), "撤回", False, SEC)
    f.withdraw(submission_id, "撤回", False, SEC)
    with pytest.raises(ForwardingConflict, match="已撤回"):
        f.withdraw(submission_id, "撤回", False, SEC)


def test_another_national_campaign_is_refused() -> None:
    f = forwarding()
    other = NationalCall("caq", "中国质量协会", NATIONAL, "jiangsu", None)
    with pytest.raises(ForwardingConflict, match="另一全国活动"):
        f.forward(other, uuid4(), dossier("saq", PROVINCIAL, uuid4(), 1), IN_WINDOW, SEC)


# The national copy of a forwarded result.


def received(n: int = 1) -> tuple[Submission, UUID]:
    origin_id = uuid4()
    body = dossier("saq", PROVINCIAL, origin_id, n)
    copy = Submission.receive(
        submission_id=national_submission_id("saq", origin_id),
        campaign=NATIONAL,
        recommending_unit="shanghai",
        serial="CAQ-2024-QC-0001",
        dossier=body,
        origin={**body, "tenant": "saq", "submission_id": origin_id},
        actor=INTAKE,
    )
    copy.collect_events()
    return copy, origin_id


def sent(submission: Submission) -> list[dict[str, Any]]:
    return [e.outcome for e in submission.collect_events() if isinstance(e, Submission.OutcomeSent)]


def test_a_received_result_is_submitted_under_its_association_with_its_origin() -> None:
    copy, origin_id = received()
    assert copy.status is SubmissionStatus.SUBMITTED
    assert copy.recommending_unit == "shanghai"
    assert copy.serial == "CAQ-2024-QC-0001"
    assert copy.received_from is not None
    assert copy.received_from["submission_id"] == origin_id
    assert copy.credit_code == "91310000MA1K000001"


def test_national_formal_review_sends_its_decision_back() -> None:
    passed, _ = received(1)
    passed.review_formally("pass", CHECKLIST, tuple(CHECKLIST), "", [], CAQ_SEC)
    assert sent(passed) == [{"stage": "formal_review", "result": "passed"}]
    rejected, _ = received(2)
    rejected.review_formally("reject", CHECKLIST, tuple(CHECKLIST), "成果超过两年", [], CAQ_SEC)
    assert sent(rejected) == [
        {"stage": "formal_review", "result": "rejected", "reason": "成果超过两年"}
    ]


def test_a_received_result_is_read_only() -> None:
    copy, _ = received()
    video = Attachment(AttachmentKind.VIDEO, "发表.mp4", "video/mp4", 10, "a" * 64)
    with pytest.raises(SubmissionConflict) as refused:
        copy.add_attachment(video, Actor("caq-applicant", Role.APPLICANT_UNIT))
    assert refused.value.problems[0].rule == "forwarded_read_only"
    with pytest.raises(SubmissionConflict):
        copy.remove_attachment("a" * 64, Actor("caq-applicant", Role.APPLICANT_UNIT))
    assert copy.collect_events() == []


def test_a_received_result_cannot_be_returned_for_correction() -> None:
    copy, _ = received()
    with pytest.raises(InvalidSubmission) as refused:
        copy.review_formally("return", CHECKLIST, tuple(CHECKLIST), "", ["补充数据"], CAQ_SEC)
    assert refused.value.problems[0].rule == "forwarded"
    assert copy.collect_events() == []


def test_a_withdrawal_before_formal_review_withdraws_with_the_reason() -> None:
    copy, _ = received()
    assert copy.withdraw_by_origin("推荐单位撤回：数据有误", INTAKE)
    assert copy.status is SubmissionStatus.WITHDRAWN
    assert copy.withdrawn_reason == "推荐单位撤回：数据有误"
    assert not copy.withdraw_by_origin("again", INTAKE)


def test_a_withdrawal_after_formal_review_is_declined_and_the_association_told() -> None:
    copy, _ = received()
    copy.review_formally("pass", CHECKLIST, tuple(CHECKLIST), "", [], CAQ_SEC)
    copy.collect_events()
    assert not copy.withdraw_by_origin("推荐单位撤回：数据有误", INTAKE)
    assert copy.status is SubmissionStatus.SUBMITTED
    assert sent(copy) == [
        {"stage": "withdrawal", "result": "declined", "reason": "全国形式审查已完成，撤回未生效"}
    ]


def test_a_result_filed_here_sends_nothing() -> None:
    copy, _ = received()
    copy.origin = None
    copy.send_outcome({"stage": "publication", "result": "graded"}, CAQ_SEC)
    assert copy.collect_events() == []


# The national intake.


def test_the_intake_lists_forwards_rosters_withdrawals_and_quota() -> None:
    intake = Intake.open(NATIONAL.id, "shanghai", "saq", INTAKE)
    first, second = uuid4(), uuid4()
    roster = [{"name": "张", "work_unit": "上海", "certificate_number": "R-1"}]
    intake.receive(first, uuid4(), "CAQ-2024-QC-0001", roster, INTAKE)
    intake.receive(second, uuid4(), "CAQ-2024-QC-0002", [], INTAKE)
    intake.withdraw(second, "撤回", INTAKE)
    assert intake.is_active(first) and not intake.is_active(second)
    assert intake.roster_numbers == {"R-1"}
    assert intake.quota(None) is None and intake.quota(2) == 2
    intake.grant_quota(3, "成果多、质量高", CAQ_SEC)
    assert intake.quota(2) == 5
    with pytest.raises(InvalidIntake) as refused:
        intake.grant_quota(0, " ", CAQ_SEC)
    assert {p.field for p in refused.value.problems} == {"extra", "reason"}


# The provincial record.


def test_the_provincial_record_shows_the_national_outcome() -> None:
    record, _ = received()  # any submission will do as the provincial record
    record.origin = None
    national_id = uuid4()
    record.record_forward("caq", NATIONAL.id, national_id, SEC)
    assert record.national_record is not None
    assert record.national_record["status"] == "forwarded"
    record.record_national_outcome({"stage": "formal_review", "result": "passed"}, INTAKE)
    record.record_national_outcome(
        {
            "stage": "publication",
            "result": "graded",
            "grade": "national_excellent",
            "grade_name": "全国优秀质量管理小组",
            "certificate_code": "CAQ-2024-QC-7K3MQ9XD",
        },
        INTAKE,
    )
    national = record.national_record
    assert national["status"] == "graded"
    assert national["formal_review"] == "passed"
    assert national["grade_name"] == "全国优秀质量管理小组"
    assert national["certificate_code"] == "CAQ-2024-QC-7K3MQ9XD"
    assert [h["stage"] for h in national["history"]] == ["formal_review", "publication"]
