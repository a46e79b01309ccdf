"""The reviewer pool (评审专家库): enrolment, profile changes, declared conflicts and retirement."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from aggregates.expert import (
    Certificate,
    Expert,
    ExpertConflict,
    ExpertNotFound,
    ExpertProfile,
    InvalidExpert,
)
from aggregates.problems import Conflict, InvalidInput, NotFound
from tests.unit.aggregates.review_support import SEC, rules_of

SAIC = "91310000132260250X"  # 上海汽车集团股份有限公司
FULL_WIDTH_SAIC = "".join(chr(ord(c) + 0xFEE0) for c in SAIC)
CERTIFICATE = Certificate(
    kind="上海市 QC 小组评审员",
    number="SHQC-2023-0042",
    issuing_body="上海市质量协会",
    level="省级",
    valid_until=date(2026, 12, 31),
)
PROFILE = ExpertProfile(
    name="周敏",
    work_unit="上海汽车集团股份有限公司",
    work_unit_credit_code=SAIC,
    mobile="13800138000",
    certificate=CERTIFICATE,
)


def problems_of(profile: ExpertProfile) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in profile.problems()}


def enrolled() -> Expert:
    expert = Expert.enrol("saq", PROFILE, SEC)
    expert.collect_events()
    return expert


# The profile.


def test_a_complete_profile_has_no_problems_with_or_without_a_credit_code() -> None:
    assert problems_of(PROFILE) == set()
    assert problems_of(replace(PROFILE, work_unit_credit_code=None)) == set()


def test_every_name_of_the_profile_and_its_certificate_is_required() -> None:
    blank = Certificate(" ", "", "\t", "", date(2026, 12, 31))

    assert problems_of(replace(PROFILE, name=" ", work_unit="", certificate=blank)) == {
        ("name", "required"),
        ("work_unit", "required"),
        ("certificate.kind", "required"),
        ("certificate.number", "required"),
        ("certificate.issuing_body", "required"),
        ("certificate.level", "required"),
    }


@pytest.mark.parametrize(
    "mobile", ["1380013800", "138001380001", "23800138000", "1380013800a", "021-5258883"]
)
def test_the_mobile_is_11_digits_starting_with_1(mobile: str) -> None:
    assert problems_of(replace(PROFILE, mobile=mobile)) == {("mobile", "mobile_format")}


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91310000132260250Y", "check_character"),
        ("9131000013226025", "length"),
        ("9131000013226O250X", "charset"),
        ("B1310000132260250X", "registration_authority"),
        ("", "required"),
    ],
    ids=["check character", "length", "letter O", "authority", "empty"],
)
def test_the_work_units_credit_code_is_checked_by_the_national_standard(
    code: str, rule: str
) -> None:
    assert problems_of(replace(PROFILE, work_unit_credit_code=code)) == {
        ("work_unit_credit_code", rule)
    }


# Enrolment.


def test_enrolling_records_the_trimmed_profile_with_who_enrolled() -> None:
    padded = replace(
        PROFILE,
        name=" 周敏 ",
        certificate=replace(CERTIFICATE, number=" SHQC-2023-0042 ", level=" 省级"),
    )

    expert = Expert.enrol("saq", padded, SEC)

    [enrolled_event] = expert.collect_events()
    assert isinstance(enrolled_event, Expert.Enrolled)
    assert enrolled_event.originator_id == Expert.create_id("saq", "SHQC-2023-0042")
    assert enrolled_event.tenant == "saq"
    assert enrolled_event.profile["name"] == "周敏"
    assert enrolled_event.profile["certificate"] == {
        "kind": "上海市 QC 小组评审员",
        "number": "SHQC-2023-0042",
        "issuing_body": "上海市质量协会",
        "level": "省级",
        "valid_until": date(2026, 12, 31),
    }
    assert (enrolled_event.actor_id, enrolled_event.actor_role) == ("sec-wang", "secretariat")
    assert (expert.name, expert.certificate_number) == ("周敏", "SHQC-2023-0042")
    assert (expert.conflicts, expert.retired_reason) == ([], None)


def test_an_expert_is_identified_by_tenant_and_certificate_number() -> None:
    assert Expert.create_id("saq", " SHQC-2023-0042 ") == Expert.create_id("saq", "SHQC-2023-0042")
    assert Expert.create_id("sdaq", "SHQC-2023-0042") != Expert.create_id("saq", "SHQC-2023-0042")


def test_an_invalid_profile_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidExpert) as refusal:
        Expert.enrol("saq", replace(PROFILE, name="", mobile="110"), SEC)

    assert isinstance(refusal.value, InvalidInput)
    assert rules_of(refusal) == {("name", "required"), ("mobile", "mobile_format")}


@pytest.mark.parametrize(
    "typed", [" 91310000132260250x ", FULL_WIDTH_SAIC], ids=["lower-case", "full-width"]
)
def test_the_credit_code_is_recorded_normalised_so_conflict_rules_can_match_it(typed: str) -> None:
    expert = Expert.enrol("saq", replace(PROFILE, work_unit_credit_code=typed), SEC)

    assert expert.profile["work_unit_credit_code"] == SAIC


# Profile changes.


def test_changing_the_profile_records_the_new_one() -> None:
    expert = enrolled()
    moved = replace(PROFILE, work_unit="上海质量管理科学研究院", work_unit_credit_code=None)

    expert.change_profile(moved, SEC)

    [changed] = expert.collect_events()
    assert isinstance(changed, Expert.ProfileChanged)
    assert changed.profile["work_unit"] == "上海质量管理科学研究院"
    assert expert.profile["work_unit_credit_code"] is None


def test_the_certificate_number_cannot_change_but_may_be_retyped_with_spaces() -> None:
    expert = enrolled()

    with pytest.raises(InvalidExpert) as refusal:
        expert.change_profile(replace(PROFILE, certificate=replace(CERTIFICATE, number="X")), SEC)
    expert.change_profile(
        replace(PROFILE, certificate=replace(CERTIFICATE, number=" SHQC-2023-0042")), SEC
    )

    assert rules_of(refusal) == {("certificate.number", "immutable")}
    assert [type(e) for e in expert.collect_events()] == [Expert.ProfileChanged]


def test_an_invalid_profile_change_is_refused_and_records_nothing() -> None:
    expert = enrolled()

    with pytest.raises(InvalidExpert) as refusal:
        expert.change_profile(replace(PROFILE, work_unit_credit_code="91310000132260250Y"), SEC)

    assert rules_of(refusal) == {("work_unit_credit_code", "check_character")}
    assert expert.collect_events() == []


# Declared conflicts.


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("applicant", "91110000100010433L"),
        ("recommending_unit", "上海市汽车工业质量协会"),
        ("submission", "6f1c1a9e-3f2d-5b7a-9c11-2e0c9e2b7d41"),
    ],
)
def test_each_kind_of_conflict_is_declared_with_its_reason(kind: str, value: str) -> None:
    expert = enrolled()

    expert.declare_conflict(kind, f" {value} ", " 曾为该单位提供咨询 ", SEC)

    [declared] = expert.collect_events()
    assert isinstance(declared, Expert.ConflictDeclared)
    assert (declared.kind, declared.value, declared.reason) == (kind, value, "曾为该单位提供咨询")
    assert expert.conflicts == [{"kind": kind, "value": value, "reason": "曾为该单位提供咨询"}]


def test_a_conflict_needs_a_known_kind_a_target_and_a_reason() -> None:
    expert = enrolled()

    with pytest.raises(InvalidExpert) as refusal:
        expert.declare_conflict("friendship", " ", "", SEC)

    assert rules_of(refusal) == {
        ("kind", "one_of"),
        ("value", "required"),
        ("reason", "required"),
    }
    assert expert.collect_events() == []


def test_the_same_conflict_is_declared_once() -> None:
    expert = enrolled()
    expert.declare_conflict("recommending_unit", "上海市汽车工业质量协会", "曾任该会理事", SEC)

    with pytest.raises(ExpertConflict) as refusal:
        expert.declare_conflict("recommending_unit", " 上海市汽车工业质量协会 ", "又申报", SEC)
    expert.declare_conflict("applicant", "91110000100010433L", "近三年在该单位任职", SEC)

    assert isinstance(refusal.value, Conflict)
    assert rules_of(refusal) == {("value", "already_declared")}
    assert len(expert.conflicts) == 2


def test_an_applicant_conflict_is_recorded_by_its_normalised_credit_code() -> None:
    expert = enrolled()

    expert.declare_conflict("applicant", " 91110000100010433l ", "近三年在该单位任职", SEC)

    assert expert.conflicts[0]["value"] == "91110000100010433L"
    with pytest.raises(ExpertConflict):
        expert.declare_conflict("applicant", "91110000100010433L", "重复申报", SEC)


# Retirement.


def test_retiring_records_the_reason() -> None:
    expert = enrolled()

    expert.retire(" 年龄原因退出 ", SEC)

    [retired] = expert.collect_events()
    assert isinstance(retired, Expert.Retired)
    assert retired.reason == expert.retired_reason == "年龄原因退出"


def test_retiring_needs_a_reason_and_happens_once() -> None:
    expert = enrolled()

    with pytest.raises(InvalidExpert) as no_reason:
        expert.retire(" ", SEC)
    expert.retire("年龄原因退出", SEC)
    with pytest.raises(ExpertConflict) as twice:
        expert.retire("再次退出", SEC)

    assert rules_of(no_reason) == {("reason", "required")}
    assert rules_of(twice) == {("expert", "retired")}
    assert len(expert.collect_events()) == 1


def test_an_unknown_certificate_number_is_not_found() -> None:
    error = ExpertNotFound()

    assert isinstance(error, NotFound)
    assert [(p.field, p.rule) for p in error.problems] == [("certificate_number", "not_found")]
