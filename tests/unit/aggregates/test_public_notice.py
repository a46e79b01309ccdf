"""The public notice (公示) of the grades: opening it in its window, objections filed during it and
resolved, closing it, and the certificates issued at publication."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from aggregates.campaign import CampaignConflict, InvalidCampaign
from aggregates.grading import Grading, GradingConflict, InvalidGrading
from tests.unit.aggregates.review_support import (
    APPLICANT,
    IN_MATERIAL,
    IN_NOTICE,
    NOTICE,
    NOTICE_OVER,
    SEC,
    VIDEO_PLAN,
    a_campaign,
    graded,
    in_notice,
    objected,
    rules_of,
    sid,
    timeline,
)


def test_the_notice_opens_in_its_window_and_closes_when_the_window_does() -> None:
    campaign, grading = graded()

    grading.open_notice(campaign, IN_NOTICE, SEC)

    [opened] = grading.collect_events()
    assert isinstance(opened, Grading.NoticeOpened)
    assert opened.closes_at == grading.notice_closes_at == NOTICE.closes_at
    assert grading.status == "public_notice"


def test_the_notice_does_not_open_outside_its_window_or_when_it_is_not_scheduled() -> None:
    campaign, grading = graded()
    unscheduled = a_campaign(VIDEO_PLAN, timeline=timeline())

    with pytest.raises(CampaignConflict) as early:
        grading.open_notice(campaign, IN_MATERIAL, SEC)
    with pytest.raises(CampaignConflict) as late:
        grading.open_notice(campaign, NOTICE_OVER, SEC)
    with pytest.raises(InvalidCampaign) as not_scheduled:
        grading.open_notice(unscheduled, IN_NOTICE, SEC)

    assert rules_of(early) == rules_of(late) == {("phase", "window_closed")}
    assert rules_of(not_scheduled) == {("phase", "not_scheduled")}
    assert grading.notice_closes_at is None


def test_an_objection_is_filed_during_the_notice_with_its_reasons() -> None:
    _, grading = in_notice()
    objection_id = uuid4()

    grading.file_objection(objection_id, sid("B"), " 成果数据与申报表不一致 ", IN_NOTICE, APPLICANT)

    [filed] = grading.collect_events()
    assert isinstance(filed, Grading.ObjectionFiled)
    assert (filed.submission_id, filed.reasons) == (sid("B"), "成果数据与申报表不一致")
    assert grading.objections[str(objection_id)]["filed_by"] == "unit-li"
    assert grading.objections[str(objection_id)]["decision"] is None


def test_an_objection_is_refused_outside_the_notice_period() -> None:
    _, before = graded()
    _, during = in_notice()

    with pytest.raises(GradingConflict) as not_opened:
        before.file_objection(uuid4(), sid("B"), "数据有误", IN_NOTICE, APPLICANT)
    with pytest.raises(GradingConflict) as period_over:
        during.file_objection(uuid4(), sid("B"), "数据有误", NOTICE_OVER, APPLICANT)

    assert rules_of(not_opened) == rules_of(period_over) == {("notice", "not_in_notice")}


def test_an_objection_names_a_graded_result_and_gives_reasons_of_at_most_2000_characters() -> None:
    _, grading = in_notice()

    refusals = []
    for submission_id, reasons, error in (
        (sid("Z"), "数据有误", GradingConflict),
        (sid("B"), "  ", InvalidGrading),
        (sid("B"), "异" * 2001, InvalidGrading),
    ):
        with pytest.raises(error) as refusal:
            grading.file_objection(uuid4(), submission_id, reasons, IN_NOTICE, APPLICANT)
        refusals.append(rules_of(refusal))

    assert refusals == [
        {("submission_id", "not_graded")},
        {("reasons", "required")},
        {("reasons", "max_length")},
    ]


def test_an_upheld_objection_may_change_the_grade() -> None:
    campaign, grading, objection_id = objected("B")

    grading.resolve_objection(campaign, objection_id, "upheld", " 核实属实 ", True, "third", SEC)

    [resolved] = grading.collect_events()
    assert isinstance(resolved, Grading.ObjectionResolved)
    assert (resolved.decision, resolved.reason, resolved.grade_changed, resolved.grade) == (
        "upheld",
        "核实属实",
        True,
        "third",
    )
    assert grading.entries[str(sid("B"))]["grade"] == "third"
    assert grading.objections[str(objection_id)]["resolution"] == "核实属实"


def test_a_dismissed_objection_cannot_change_the_grade() -> None:
    campaign, grading, objection_id = objected("B")

    with pytest.raises(InvalidGrading) as refusal:
        grading.resolve_objection(campaign, objection_id, "dismissed", "不属实", True, None, SEC)
    grading.resolve_objection(campaign, objection_id, "dismissed", "不属实", False, "third", SEC)

    assert rules_of(refusal) == {("grade", "upheld_only")}
    [resolved] = grading.collect_events()
    assert isinstance(resolved, Grading.ObjectionResolved)
    assert (resolved.grade_changed, resolved.grade) == (False, None)
    assert grading.entries[str(sid("B"))]["grade"] == "second"


def test_resolving_needs_a_known_decision_a_reason_and_a_grade_the_result_qualifies_for() -> None:
    campaign, grading, objection_id = objected("B")

    with pytest.raises(InvalidGrading) as refusal:
        grading.resolve_objection(campaign, objection_id, "partly", " ", False, None, SEC)
    with pytest.raises(InvalidGrading) as needs_video:
        grading.resolve_objection(campaign, objection_id, "upheld", "属实", True, "first", SEC)
    with pytest.raises(GradingConflict) as unknown:
        grading.resolve_objection(campaign, uuid4(), "upheld", "属实", False, None, SEC)

    assert rules_of(refusal) == {("decision", "one_of"), ("reason", "required")}
    assert rules_of(needs_video) == {("grade", "video_required")}
    assert rules_of(unknown) == {("objection_id", "not_found")}


def test_an_objection_is_resolved_once() -> None:
    campaign, grading, objection_id = objected("B")
    grading.resolve_objection(campaign, objection_id, "dismissed", "不属实", False, None, SEC)

    with pytest.raises(GradingConflict) as refusal:
        grading.resolve_objection(campaign, objection_id, "upheld", "属实", False, None, SEC)

    assert rules_of(refusal) == {("objection_id", "resolved")}


def test_the_notice_closes_after_its_period_with_every_objection_resolved() -> None:
    campaign, grading, objection_id = objected("B")
    _, never_opened = graded()

    with pytest.raises(GradingConflict) as not_opened:
        never_opened.close_notice(NOTICE_OVER, SEC)
    with pytest.raises(GradingConflict) as running:
        grading.close_notice(NOTICE_OVER - timedelta(seconds=1), SEC)
    with pytest.raises(GradingConflict) as unresolved:
        grading.close_notice(NOTICE_OVER, SEC)
    grading.resolve_objection(campaign, objection_id, "dismissed", "不属实", False, None, SEC)
    grading.close_notice(NOTICE_OVER, SEC)

    assert rules_of(not_opened) == {("notice", "not_opened")}
    assert rules_of(running) == {("notice", "period_running")}
    assert rules_of(unresolved) == {("objections", "unresolved")}
    assert [type(e) for e in grading.collect_events()][-1] is Grading.NoticeClosed
    assert grading.status == "notice_closed"
    with pytest.raises(GradingConflict):
        grading.close_notice(NOTICE_OVER, SEC)
    with pytest.raises(GradingConflict):
        grading.resolve_objection(campaign, objection_id, "upheld", "属实", False, None, SEC)


# Publication.


def test_certificates_are_issued_only_once_the_notice_has_closed() -> None:
    _, grading = in_notice()
    codes = {str(sid("A")): "SDAQ-2024-QC-7K2M9PXA"}

    with pytest.raises(GradingConflict) as too_early:
        grading.issue_certificates(codes, date(2024, 8, 7), SEC)
    grading.close_notice(NOTICE_OVER, SEC)
    grading.issue_certificates(codes, date(2024, 8, 9), SEC)
    with pytest.raises(GradingConflict) as twice:
        grading.issue_certificates(codes, date(2024, 8, 10), SEC)

    assert rules_of(too_early) == {("notice", "not_closed")}
    assert rules_of(twice) == {("grading", "published")}
    issued = grading.collect_events()[-1]
    assert isinstance(issued, Grading.CertificatesIssued)
    assert (issued.certificates, issued.issued_on) == (codes, date(2024, 8, 9))
    assert grading.status == "published"
    assert grading.certificate("SDAQ-2024-QC-7K2M9PXA") == grading.entries[str(sid("A"))]
    assert grading.certificate("SDAQ-2024-QC-00000000") is None
