"""The campaign aggregate: given a campaign, a command records new events or is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aggregates.actor import Actor, Role
from aggregates.campaign import (
    Campaign,
    CampaignConflict,
    CampaignRules,
    Contact,
    InvalidCampaign,
    Phase,
    Programme,
    ScoreAggregation,
    Window,
)
from aggregates.problems import DomainError

BEIJING = ZoneInfo("Asia/Shanghai")
SECRETARIAT = Actor(user_id="sec-wang", role=Role.SECRETARIAT)


def bj(*parts: int) -> datetime:
    """A moment in Beijing time: bj(2020, 7, 25, 22) is 2020-07-25 22:00 +08:00."""
    return datetime(*parts, tzinfo=BEIJING)


def a_timeline() -> dict[Phase, Window]:
    # Shanghai 2020: online filing closed 2020-07-25 22:00.
    return {
        Phase.REGISTRATION: Window(opens_at=None, closes_at=bj(2020, 6, 30, 17)),
        Phase.SUBMISSION: Window(opens_at=bj(2020, 7, 1, 9), closes_at=bj(2020, 7, 25, 22)),
        Phase.RECOMMENDATION: Window(opens_at=bj(2020, 7, 1, 9), closes_at=bj(2020, 8, 10, 17)),
        Phase.PUBLICATION: Window(opens_at=bj(2020, 11, 1), closes_at=bj(2020, 12, 31)),
    }


def open_campaign(**overrides: Any) -> Campaign:
    values: dict[str, Any] = {
        "tenant": "saq",
        "programme": Programme.QC_GROUP,
        "year": 2020,
        "title": "2020年上海市质量管理小组活动成果发表交流",
        "document_number": "沪质协〔2020〕7号",
        "theme": "提质增效",
        "co_organisers": ["上海市总工会"],
        "contact": Contact(person="王老师", phone="021-63000000", email="qc@saq.org.cn"),
        "period_start": date(2019, 7, 1),
        "period_end": date(2020, 6, 30),
        "rules": CampaignRules(),
        "timeline": a_timeline(),
        "actor": SECRETARIAT,
    }
    return Campaign.open(**{**values, **overrides})


def given_campaign(**overrides: Any) -> Campaign:
    """An opened campaign whose Opened event has already been saved."""
    campaign = open_campaign(**overrides)
    campaign.collect_events()
    return campaign


def rules_of(refusal: pytest.ExceptionInfo[DomainError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in refusal.value.problems}


# Opening.


def test_opening_records_every_field_with_the_actor() -> None:
    campaign = open_campaign(idempotency_key="req-1")

    [opened] = campaign.collect_events()

    assert isinstance(opened, Campaign.Opened)
    assert opened.originator_id == Campaign.create_id("saq", Programme.QC_GROUP, 2020)
    assert (opened.tenant, opened.programme, opened.year) == ("saq", Programme.QC_GROUP, 2020)
    assert opened.title == "2020年上海市质量管理小组活动成果发表交流"
    assert opened.document_number == "沪质协〔2020〕7号"
    assert opened.theme == "提质增效"
    assert opened.co_organisers == ["上海市总工会"]
    assert opened.contact == {
        "person": "王老师",
        "phone": "021-63000000",
        "department": "",
        "email": "qc@saq.org.cn",
        "address": "",
        "postcode": "",
    }
    assert (opened.period_start, opened.period_end) == (date(2019, 7, 1), date(2020, 6, 30))
    assert opened.rules == CampaignRules().to_state()
    assert opened.timeline["submission"] == {
        "opens_at": bj(2020, 7, 1, 9),
        "closes_at": bj(2020, 7, 25, 22),
    }
    assert opened.idempotency_key == "req-1"
    assert (opened.actor_id, opened.actor_role) == ("sec-wang", "secretariat")
    assert campaign.status == "open"


def test_the_timeline_is_recorded_in_phase_order_and_the_title_trimmed() -> None:
    reversed_timeline = dict(reversed(list(a_timeline().items())))

    [opened] = open_campaign(title="  活动  ", timeline=reversed_timeline).collect_events()

    assert list(opened.timeline) == ["registration", "submission", "recommendation", "publication"]
    assert opened.title == "活动"


def test_the_id_is_the_same_for_the_same_tenant_programme_and_year() -> None:
    first = open_campaign()
    again = open_campaign(title="另一个标题")

    assert first.id == again.id == Campaign.create_id("saq", Programme.QC_GROUP, 2020)
    assert open_campaign(tenant="sdaq").id != first.id
    assert open_campaign(year=2021).id != first.id
    assert open_campaign(programme=Programme.TEAM).id != first.id


def _submission(opens_at: datetime | None, closes_at: datetime) -> dict[Phase, Window]:
    return {Phase.SUBMISSION: Window(opens_at=opens_at, closes_at=closes_at)}


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        pytest.param({"title": "   "}, "title", "required", id="empty-title"),
        pytest.param({"title": "质" * 201}, "title", "max_length", id="long-title"),
        pytest.param({"year": 1999}, "year", "range", id="year-too-early"),
        pytest.param({"year": 2101}, "year", "range", id="year-too-late"),
        pytest.param(
            {"period_start": date(2020, 7, 1), "period_end": date(2020, 6, 30)},
            "period_end",
            "period_order",
            id="period-end-before-start",
        ),
        pytest.param(
            {"timeline": _submission(bj(2020, 7, 25, 22), bj(2020, 7, 1, 9))},
            "timeline.submission.closes_at",
            "window_order",
            id="window-closes-before-it-opens",
        ),
        pytest.param(
            {"timeline": _submission(bj(2020, 7, 1, 9), bj(2020, 7, 1, 9))},
            "timeline.submission.closes_at",
            "window_order",
            id="window-closes-as-it-opens",
        ),
        pytest.param(
            {"timeline": _submission(datetime(2020, 7, 1, 9), bj(2020, 7, 25, 22))},
            "timeline.submission.opens_at",
            "timezone_required",
            id="naive-opens-at",
        ),
        pytest.param(
            {"timeline": _submission(None, datetime(2020, 7, 25, 22))},
            "timeline.submission.closes_at",
            "timezone_required",
            id="naive-closes-at",
        ),
        pytest.param({"timeline": {}}, "timeline", "required", id="empty-timeline"),
        pytest.param(
            {"contact": Contact(person="王老师", phone="021", email="qc-at-saq.org.cn")},
            "contact.email",
            "email_format",
            id="bad-email",
        ),
        pytest.param(
            {"contact": Contact(person="王老师", phone="021", postcode="20000")},
            "contact.postcode",
            "postcode_format",
            id="bad-postcode",
        ),
        pytest.param(
            {"contact": Contact(person=" ", phone="021")},
            "contact.person",
            "required",
            id="empty-contact-person",
        ),
        pytest.param(
            {"co_organisers": ["上海市总工会", ""]},
            "co_organisers[1]",
            "required",
            id="empty-co-organiser",
        ),
        pytest.param(
            {"rules": CampaignRules(results_per_applicant_min=4, results_per_applicant_max=3)},
            "rules.results_per_applicant_max",
            "min_le_max",
            id="rules-min-above-max",
        ),
        pytest.param(
            {"rules": CampaignRules(members_max=0)},
            "rules.members_max",
            "positive",
            id="rules-non-positive",
        ),
    ],
)
def test_opening_with_an_invalid_value_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCampaign) as refused:
        open_campaign(**overrides)

    assert rules_of(refused) == {(field, rule)}


# Windows close at an exact minute.


def test_a_command_one_second_before_the_closing_minute_is_accepted() -> None:
    given_campaign().check_phase_open(Phase.SUBMISSION, bj(2020, 7, 25, 21, 59, 59))


def test_a_command_at_the_closing_minute_is_refused_naming_the_window() -> None:
    campaign = given_campaign()

    with pytest.raises(CampaignConflict) as refused:
        campaign.check_phase_open(Phase.SUBMISSION, bj(2020, 7, 25, 22))

    assert rules_of(refused) == {("phase", "window_closed")}
    assert "成果申报" in str(refused.value)
    assert "已截止" in str(refused.value)
    assert "2020-07-01 09:00 至 2020-07-25 22:00" in str(refused.value)


def test_the_closing_minute_is_the_same_instant_in_any_offset() -> None:
    campaign = given_campaign()

    campaign.check_phase_open(Phase.SUBMISSION, datetime(2020, 7, 25, 13, 59, 59, tzinfo=UTC))
    with pytest.raises(CampaignConflict):
        campaign.check_phase_open(Phase.SUBMISSION, datetime(2020, 7, 25, 14, tzinfo=UTC))


def test_a_command_before_the_window_opens_is_refused_as_not_yet_started() -> None:
    campaign = given_campaign()

    with pytest.raises(CampaignConflict) as refused:
        campaign.check_phase_open(Phase.SUBMISSION, bj(2020, 7, 1, 8, 59, 59))

    assert "尚未开始" in str(refused.value)
    campaign.check_phase_open(Phase.SUBMISSION, bj(2020, 7, 1, 9))


def test_a_window_without_an_opening_time_is_open_from_the_start() -> None:
    campaign = given_campaign()

    campaign.check_phase_open(Phase.REGISTRATION, bj(2000, 1, 1))
    assert campaign.open_phases(bj(2000, 1, 1)) == [Phase.REGISTRATION]
    assert campaign.window(Phase.REGISTRATION).describe() == "活动开始 至 2020-06-30 17:00"


def test_open_phases_drop_a_phase_at_its_closing_minute() -> None:
    campaign = given_campaign()

    assert campaign.open_phases(bj(2020, 7, 25, 21, 59, 59)) == [
        Phase.SUBMISSION,
        Phase.RECOMMENDATION,
    ]
    assert campaign.open_phases(bj(2020, 7, 25, 22)) == [Phase.RECOMMENDATION]


def test_an_unscheduled_phase_is_refused_as_not_scheduled() -> None:
    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().check_phase_open(Phase.PRESENTATION, bj(2020, 9, 1))

    assert rules_of(refused) == {("phase", "not_scheduled")}


# Rescheduling a phase.


def test_a_phase_not_yet_open_can_be_rescheduled() -> None:
    campaign = given_campaign()
    moved = Window(opens_at=bj(2020, 7, 6, 9), closes_at=bj(2020, 7, 31, 22))

    campaign.reschedule_phase(Phase.SUBMISSION, moved, bj(2020, 6, 15), SECRETARIAT)

    [rescheduled] = campaign.collect_events()
    assert isinstance(rescheduled, Campaign.PhaseRescheduled)
    assert rescheduled.phase is Phase.SUBMISSION
    assert (rescheduled.opens_at, rescheduled.closes_at) == (moved.opens_at, moved.closes_at)
    assert (rescheduled.actor_id, rescheduled.actor_role) == ("sec-wang", "secretariat")
    assert campaign.timeline[Phase.SUBMISSION] == moved


@pytest.mark.parametrize("at", [bj(2020, 7, 1, 9), bj(2020, 7, 26)], ids=["opening", "closed"])
def test_a_phase_that_has_opened_cannot_be_rescheduled(at: datetime) -> None:
    campaign = given_campaign()
    moved = Window(opens_at=bj(2020, 8, 1), closes_at=bj(2020, 8, 31))

    with pytest.raises(CampaignConflict) as refused:
        campaign.reschedule_phase(Phase.SUBMISSION, moved, at, SECRETARIAT)

    assert rules_of(refused) == {("phase", "already_opened")}
    assert campaign.collect_events() == []


@pytest.mark.parametrize("opens_at", [bj(2020, 6, 10), bj(2020, 6, 15)], ids=["past", "now"])
def test_a_phase_cannot_be_rescheduled_to_open_in_the_past(opens_at: datetime) -> None:
    moved = Window(opens_at=opens_at, closes_at=bj(2020, 7, 31, 22))

    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().reschedule_phase(Phase.SUBMISSION, moved, bj(2020, 6, 15), SECRETARIAT)

    assert rules_of(refused) == {("opens_at", "in_future")}


def test_rescheduling_to_an_incoherent_window_is_refused() -> None:
    backwards = Window(opens_at=bj(2020, 8, 1), closes_at=bj(2020, 7, 1))

    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().reschedule_phase(Phase.SUBMISSION, backwards, bj(2020, 6, 1), SECRETARIAT)

    assert rules_of(refused) == {("timeline.submission.closes_at", "window_order")}


def test_rescheduling_an_unscheduled_phase_adds_it() -> None:
    campaign = given_campaign()
    contest = Window(opens_at=bj(2020, 9, 20, 8, 30), closes_at=bj(2020, 9, 20, 17))

    campaign.reschedule_phase(Phase.PRESENTATION, contest, bj(2020, 8, 1), SECRETARIAT)

    assert len(campaign.collect_events()) == 1
    assert campaign.timeline[Phase.PRESENTATION] == contest
    assert campaign.open_phases(bj(2020, 9, 20, 10)) == [Phase.PRESENTATION]


# Extending a deadline.

REASON = "应各推荐单位要求延期"


def test_extending_a_deadline_records_the_previous_and_new_deadline() -> None:
    campaign = given_campaign()

    campaign.extend_deadline(
        Phase.SUBMISSION, bj(2020, 7, 31, 22), f"  {REASON} ", bj(2020, 7, 25, 20), SECRETARIAT
    )

    [extended] = campaign.collect_events()
    assert isinstance(extended, Campaign.DeadlineExtended)
    assert extended.phase is Phase.SUBMISSION
    assert extended.previous_closes_at == bj(2020, 7, 25, 22)
    assert extended.closes_at == bj(2020, 7, 31, 22)
    assert extended.reason == REASON
    assert (extended.actor_id, extended.actor_role) == ("sec-wang", "secretariat")
    campaign.check_phase_open(Phase.SUBMISSION, bj(2020, 7, 28))


@pytest.mark.parametrize(
    ("until", "reason", "field", "rule"),
    [
        (bj(2020, 7, 25, 22), REASON, "until", "later_than_deadline"),
        (bj(2020, 7, 20), REASON, "until", "later_than_deadline"),
        (bj(2020, 7, 31), "  ", "reason", "required"),
        (datetime(2020, 7, 31), REASON, "until", "timezone_required"),
    ],
    ids=["same-deadline", "earlier", "blank-reason", "naive"],
)
def test_an_incoherent_extension_is_refused(
    until: datetime, reason: str, field: str, rule: str
) -> None:
    campaign = given_campaign()

    with pytest.raises(InvalidCampaign) as refused:
        campaign.extend_deadline(Phase.SUBMISSION, until, reason, bj(2020, 7, 20), SECRETARIAT)

    assert rules_of(refused) == {(field, rule)}
    assert campaign.collect_events() == []


def test_the_deadline_of_an_unscheduled_phase_cannot_be_extended() -> None:
    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().extend_deadline(
            Phase.PRESENTATION, bj(2020, 10, 1), REASON, bj(2020, 7, 1), SECRETARIAT
        )

    assert rules_of(refused) == {("phase", "not_scheduled")}


def test_a_closed_window_is_reopened_by_an_extension_into_the_future() -> None:
    campaign = given_campaign()

    campaign.extend_deadline(
        Phase.SUBMISSION, bj(2020, 7, 28, 22), REASON, bj(2020, 7, 26, 10), SECRETARIAT
    )

    assert len(campaign.collect_events()) == 1
    assert Phase.SUBMISSION in campaign.open_phases(bj(2020, 7, 27))


def test_a_closed_window_cannot_be_extended_to_a_moment_already_past() -> None:
    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().extend_deadline(
            Phase.SUBMISSION, bj(2020, 7, 28), REASON, bj(2020, 7, 30), SECRETARIAT
        )

    assert rules_of(refused) == {("until", "in_future")}


# Amending rules.


def test_rules_amended_before_submission_opens_record_only_the_changes() -> None:
    campaign = given_campaign()

    campaign.amend_rules({"members_max": 12}, "放宽人数", bj(2020, 6, 15), SECRETARIAT)

    [amended] = campaign.collect_events()
    assert isinstance(amended, Campaign.RulesAmended)
    assert amended.changes == {"members_max": 12}
    assert (amended.reason, amended.actor_id, amended.actor_role) == (
        "放宽人数",
        "sec-wang",
        "secretariat",
    )
    assert campaign.rules == CampaignRules(members_max=12)


def test_rules_cannot_be_amended_once_submission_has_opened() -> None:
    campaign = given_campaign()

    with pytest.raises(CampaignConflict) as refused:
        campaign.amend_rules({"members_max": 12}, "放宽人数", bj(2020, 7, 1, 9), SECRETARIAT)

    assert rules_of(refused) == {("rules", "filing_opened")}
    assert "成果申报" in str(refused.value)


def test_without_a_submission_phase_the_recommendation_phase_fixes_the_rules() -> None:
    team_timeline = {k: v for k, v in a_timeline().items() if k is not Phase.SUBMISSION}
    campaign = given_campaign(programme=Programme.TEAM, timeline=team_timeline)

    campaign.amend_rules({"evaluation_max_chars": 500}, "评价放宽", bj(2020, 6, 30), SECRETARIAT)
    with pytest.raises(CampaignConflict) as refused:
        campaign.amend_rules({"members_max": 12}, "放宽人数", bj(2020, 7, 1, 9), SECRETARIAT)

    assert "成果推荐" in str(refused.value)
    assert campaign.rules.evaluation_max_chars == 500


@pytest.mark.parametrize(
    ("changes", "reason", "field", "rule"),
    [
        ({"fee_per_result": 0}, "收费", "rules.fee_per_result", "unknown_rule"),
        ({"results_per_applicant_min": 4}, "多报", "rules.results_per_applicant_max", "min_le_max"),
        ({"members_max": 0}, "清零", "rules.members_max", "positive"),
        ({}, "无", "rules", "required"),
        ({"members_max": 12}, " ", "reason", "required"),
    ],
    ids=["unknown-rule", "min-above-max", "non-positive", "no-change", "blank-reason"],
)
def test_an_incoherent_rules_amendment_is_refused(
    changes: dict[str, Any], reason: str, field: str, rule: str
) -> None:
    campaign = given_campaign()

    with pytest.raises(InvalidCampaign) as refused:
        campaign.amend_rules(changes, reason, bj(2020, 6, 15), SECRETARIAT)

    assert rules_of(refused) == {(field, rule)}
    assert campaign.collect_events() == []


@pytest.mark.parametrize(
    "changes",
    [{"score_aggregation": "median"}, {"members_max": None}, {"members_max": "12"}],
    ids=["unknown-aggregation", "none-for-a-required-number", "text-for-a-number"],
)
def test_a_rule_value_of_the_wrong_kind_is_refused(changes: dict[str, Any]) -> None:
    # Recorded, such a value would make the stream unreadable or the rules meaningless.
    campaign = given_campaign()

    with pytest.raises(InvalidCampaign):
        campaign.amend_rules(changes, "改规则", bj(2020, 6, 15), SECRETARIAT)

    assert campaign.collect_events() == []


# Publishing and archiving.


@pytest.mark.parametrize("at", [bj(2020, 10, 31, 23, 59, 59), bj(2020, 12, 31)])
def test_results_cannot_be_published_outside_the_publication_window(at: datetime) -> None:
    with pytest.raises(CampaignConflict) as refused:
        given_campaign().publish_results(at, SECRETARIAT)

    assert rules_of(refused) == {("phase", "window_closed")}


def test_results_published_in_the_window_are_recorded_once() -> None:
    campaign = given_campaign()

    campaign.publish_results(bj(2020, 11, 1), SECRETARIAT)
    with pytest.raises(CampaignConflict) as refused:
        campaign.publish_results(bj(2020, 11, 2), SECRETARIAT)

    [published] = campaign.collect_events()
    assert isinstance(published, Campaign.ResultsPublished)
    assert published.published_at == bj(2020, 11, 1)
    assert (published.actor_id, published.actor_role) == ("sec-wang", "secretariat")
    assert rules_of(refused) == {("campaign", "already_published")}
    assert "2020-11-01 00:00" in str(refused.value)


def test_the_status_goes_from_open_to_published_to_archived() -> None:
    campaign = given_campaign()
    assert campaign.status == "open"

    campaign.publish_results(bj(2020, 11, 1), SECRETARIAT)
    assert campaign.status == "published"

    campaign.archive("年度活动结束", SECRETARIAT)
    [_, archived] = campaign.collect_events()
    assert isinstance(archived, Campaign.Archived)
    assert archived.reason == "年度活动结束"
    assert campaign.status == "archived"


def test_an_archive_without_a_reason_is_refused() -> None:
    with pytest.raises(InvalidCampaign) as refused:
        given_campaign().archive("  ", SECRETARIAT)

    assert rules_of(refused) == {("reason", "required")}


LATER_COMMANDS = {
    "reschedule": lambda c: c.reschedule_phase(
        Phase.PRESENTATION, Window(None, bj(2021, 1, 1)), bj(2020, 12, 1), SECRETARIAT
    ),
    "extend": lambda c: c.extend_deadline(
        Phase.PUBLICATION, bj(2021, 1, 31), REASON, bj(2020, 12, 1), SECRETARIAT
    ),
    "amend": lambda c: c.amend_rules({"members_max": 12}, "改", bj(2020, 6, 1), SECRETARIAT),
    "publish": lambda c: c.publish_results(bj(2020, 12, 1), SECRETARIAT),
    "archive": lambda c: c.archive("再次归档", SECRETARIAT),
}


@pytest.mark.parametrize("command", LATER_COMMANDS.values(), ids=LATER_COMMANDS.keys())
def test_an_archived_campaign_refuses_every_later_command(command: Any) -> None:
    campaign = given_campaign()
    campaign.archive("活动取消", SECRETARIAT)
    campaign.collect_events()

    with pytest.raises(CampaignConflict) as refused:
        command(campaign)

    assert rules_of(refused) == {("campaign", "archived")}
    assert campaign.collect_events() == []


# Rules.


def test_team_defaults_allow_two_recommendations_per_applicant() -> None:
    team = CampaignRules.defaults_for(Programme.TEAM)

    assert team.recommendations_per_applicant_max == 2
    assert team.results_per_applicant_max is None
    assert team.distinct_topic_types is False


def test_qc_defaults_are_the_seeds() -> None:
    qc = CampaignRules.defaults_for(Programme.QC_GROUP)

    assert (qc.results_per_applicant_min, qc.results_per_applicant_max) == (2, 3)
    assert qc.members_max == 10
    assert qc.evaluation_max_chars == 300
    assert qc.work_summary_min_chars == 3000
    assert qc.distinct_topic_types is True


def test_rules_from_older_or_newer_state_ignore_unknown_keys_and_default_missing_ones() -> None:
    rules = CampaignRules.from_state(
        {"members_max": 8, "score_aggregation": "trimmed_mean", "a_rule_from_the_future": 1}
    )

    assert rules == CampaignRules(members_max=8, score_aggregation=ScoreAggregation.TRIMMED_MEAN)
    assert rules.score_aggregation is ScoreAggregation.TRIMMED_MEAN
    assert CampaignRules.from_state({}) == CampaignRules()


# Replay.


def test_replaying_the_recorded_events_rebuilds_the_same_campaign() -> None:
    campaign = open_campaign()
    campaign.reschedule_phase(
        Phase.PRESENTATION,
        Window(bj(2020, 9, 20, 8), bj(2020, 9, 20, 17)),
        bj(2020, 6, 1),
        SECRETARIAT,
    )
    campaign.amend_rules(
        {"score_aggregation": ScoreAggregation.TRIMMED_MEAN, "recommending_unit_quota": 20},
        "专家会审去掉最高最低分",
        bj(2020, 6, 1),
        SECRETARIAT,
    )
    campaign.extend_deadline(
        Phase.SUBMISSION, bj(2020, 7, 31, 22), REASON, bj(2020, 7, 20), SECRETARIAT
    )
    campaign.publish_results(bj(2020, 11, 1), SECRETARIAT)
    events = campaign.collect_events()

    replayed = events[0].mutate(None)
    for recorded in events[1:]:
        replayed = recorded.mutate(replayed)

    assert all(e.actor_id == "sec-wang" for e in events)
    assert replayed.id == campaign.id
    assert replayed.version == campaign.version == 5
    assert replayed.timeline == campaign.timeline
    assert replayed.rules == campaign.rules
    assert replayed.rules.recommending_unit_quota == 20
    assert replayed.status == campaign.status == "published"
