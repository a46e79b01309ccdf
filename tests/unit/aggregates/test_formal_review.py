"""Formal review (形式审查) of a submission: pass on the campaign's whole checklist, return for
correction, or reject with the reason; and no withdrawal once reviewed."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest

from aggregates.campaign import Campaign
from aggregates.review_plan import ReviewPlan
from aggregates.submission import (
    REQUIRED_ATTACHMENTS,
    Attachment,
    InvalidSubmission,
    Submission,
    SubmissionConflict,
    SubmissionStatus,
)
from aggregates.submission_forms import QcResultForm, TopicType
from tests.unit.aggregates.review_support import (
    APPLICANT,
    IN_SUBMISSION,
    SCORE_BANDS,
    SEC,
    a_campaign,
    credit_code,
    rules_of,
)

CHECKLIST = ("盖章申报表齐全", "成果报告齐全", "成果为近两年内取得")
FORM = QcResultForm(
    group_name="炼钢厂设备QC小组",
    group_size=6,
    topic_name="降低转炉氧枪故障率",
    industry="冶金",
    topic_type=TopicType.PROBLEM_SOLVING,
    members=("张伟", "王芳", "李强", "刘洋", "陈静", "杨磊"),
    intro="小组围绕转炉氧枪故障开展现状调查、原因分析与对策实施。" * 40,
    commitments=(True, True, True, True),
)
ALL_MET = dict.fromkeys(CHECKLIST, True)


def a_submission(campaign: Campaign, *, submit: bool = True) -> Submission:
    """A complete QC result of the campaign, submitted (or left a draft); the events saved."""
    submission = Submission.draft(
        submission_id=uuid4(),
        campaign=campaign,
        credit_code=credit_code(1),
        applicant={"unit_name": "山东申报单位1有限公司", "key_domain": None},
        recommending_unit="济南市质量协会",
        form=FORM,
        actor=APPLICANT,
    )
    for kind in REQUIRED_ATTACHMENTS[campaign.programme]:
        digest = hashlib.sha256(kind.encode()).hexdigest()
        submission.add_attachment(
            Attachment(kind, f"{kind}.pdf", "application/pdf", 1024, digest), APPLICANT
        )
    if submit:
        submission.submit(campaign, "2024-001", IN_SUBMISSION, APPLICANT)
    submission.collect_events()
    return submission


def given() -> tuple[Campaign, Submission]:
    campaign = a_campaign(ReviewPlan(checklist=CHECKLIST, bands=SCORE_BANDS))
    return campaign, a_submission(campaign)


def review(
    submission: Submission,
    decision: str,
    checklist: dict[str, bool] = ALL_MET,
    *,
    reason: str = "",
    items: tuple[str, ...] = (),
) -> None:
    submission.review_formally(decision, dict(checklist), CHECKLIST, reason, list(items), SEC)


def test_a_submission_passes_when_every_item_of_the_campaigns_checklist_is_met() -> None:
    campaign, submission = given()

    submission.review_formally("pass", ALL_MET, campaign.review_plan.checklist, "", [], SEC)

    [passed] = submission.collect_events()
    assert isinstance(passed, Submission.FormalReviewPassed)
    assert passed.checklist == ALL_MET
    assert (passed.actor_id, passed.actor_role) == ("sec-wang", "secretariat")
    assert (submission.formal_review, submission.status) == ("passed", SubmissionStatus.SUBMITTED)
    assert submission.reviewed_formally


def test_a_submission_with_an_unmet_item_does_not_pass() -> None:
    _, submission = given()

    with pytest.raises(InvalidSubmission) as refusal:
        review(submission, "pass", {**ALL_MET, "成果为近两年内取得": False})

    assert rules_of(refusal) == {("decision", "checklist_unmet")}
    assert submission.collect_events() == []
    assert not submission.reviewed_formally


def test_the_checklist_answers_exactly_the_campaigns_items() -> None:
    _, submission = given()
    other_campaigns = {**dict.fromkeys(CHECKLIST[:2], True), "推荐单位评审组有持证评委": True}

    with pytest.raises(InvalidSubmission) as refusal:
        review(submission, "pass", other_campaigns)

    assert rules_of(refusal) == {
        ("checklist.成果为近两年内取得", "required"),
        ("checklist.推荐单位评审组有持证评委", "unknown_item"),
    }


def test_rejecting_records_the_checklist_and_the_reason() -> None:
    _, submission = given()
    unmet = {**ALL_MET, "成果为近两年内取得": False}

    review(submission, "reject", unmet, reason=" 成果取得时间为2019年，超出期限 ")

    [rejected] = submission.collect_events()
    assert isinstance(rejected, Submission.Rejected)
    assert (rejected.checklist, rejected.reason) == (unmet, "成果取得时间为2019年，超出期限")
    assert (submission.formal_review, submission.status) == ("rejected", SubmissionStatus.REJECTED)


def test_rejecting_needs_a_reason() -> None:
    _, submission = given()

    with pytest.raises(InvalidSubmission) as refusal:
        review(submission, "reject", {**ALL_MET, "成果报告齐全": False}, reason="  ")

    assert rules_of(refusal) == {("reason", "required")}
    assert submission.status is SubmissionStatus.SUBMITTED


def test_returning_for_correction_lists_the_items_and_leaves_the_review_to_be_done() -> None:
    _, submission = given()

    review(
        submission,
        "return",
        {**ALL_MET, "盖章申报表齐全": False},
        items=(" 申报表缺少单位公章 ", " "),
    )

    [returned] = submission.collect_events()
    assert isinstance(returned, Submission.ReturnedForCorrection)
    assert returned.items == ["申报表缺少单位公章"]
    assert submission.status is SubmissionStatus.RETURNED
    assert not submission.reviewed_formally


def test_returning_needs_the_items_to_correct() -> None:
    _, submission = given()

    with pytest.raises(InvalidSubmission) as refusal:
        review(submission, "return", {**ALL_MET, "盖章申报表齐全": False}, items=(" ",))

    assert rules_of(refusal) == {("items", "required")}


def test_a_corrected_and_resubmitted_submission_is_reviewed_again() -> None:
    campaign, submission = given()
    review(submission, "return", {**ALL_MET, "盖章申报表齐全": False}, items=("补盖公章",))
    with pytest.raises(SubmissionConflict) as while_returned:
        review(submission, "pass")
    submission.resubmit(campaign, APPLICANT)

    review(submission, "pass")

    assert rules_of(while_returned) == {("status", "not_reviewable")}
    assert submission.formal_review == "passed"


@pytest.mark.parametrize("decision", ["approve", "passed", ""])
def test_an_unknown_decision_is_refused_not_taken_for_a_return(decision: str) -> None:
    _, submission = given()

    with pytest.raises(InvalidSubmission) as refusal:
        review(submission, decision, items=("补盖公章",))

    assert rules_of(refusal) == {("decision", "one_of")}
    assert submission.collect_events() == []
    assert submission.status is SubmissionStatus.SUBMITTED


def test_a_draft_is_not_reviewed() -> None:
    campaign = a_campaign(ReviewPlan(checklist=CHECKLIST, bands=SCORE_BANDS))
    draft = a_submission(campaign, submit=False)

    with pytest.raises(SubmissionConflict) as refusal:
        review(draft, "pass")

    assert rules_of(refusal) == {("status", "not_reviewable")}


@pytest.mark.parametrize(
    ("decision", "reason"), [("pass", ""), ("reject", "超出期限")], ids=["passed", "rejected"]
)
def test_a_submission_is_reviewed_once(decision: str, reason: str) -> None:
    _, submission = given()
    review(submission, decision, reason=reason)

    with pytest.raises(SubmissionConflict) as refusal:
        review(submission, "pass")

    assert rules_of(refusal) == {("status", "not_reviewable")}


@pytest.mark.parametrize(
    ("decision", "reason"), [("pass", ""), ("reject", "超出期限")], ids=["passed", "rejected"]
)
def test_a_formally_reviewed_submission_cannot_be_withdrawn(decision: str, reason: str) -> None:
    _, submission = given()
    review(submission, decision, reason=reason)
    submission.collect_events()

    with pytest.raises(SubmissionConflict) as refusal:
        submission.withdraw("单位决定不再参加", APPLICANT)

    assert rules_of(refusal) == {("status", "formally_reviewed")}
    assert submission.collect_events() == []


def test_before_formal_review_a_submission_may_still_be_withdrawn() -> None:
    _, submission = given()

    submission.withdraw(" 单位决定不再参加 ", APPLICANT)

    [withdrawn] = submission.collect_events()
    assert isinstance(withdrawn, Submission.Withdrawn)
    assert submission.status is SubmissionStatus.WITHDRAWN
