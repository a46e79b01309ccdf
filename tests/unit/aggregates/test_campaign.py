"""The campaign aggregate: given a campaign, a command records new events or is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
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
SEC = Actor(user_id="sec-wang", role=Role.SECRETARIAT)
SUB = Phase.SUBMISSION
REASON = "应各推荐单位要求延期"


def bj(*parts: int) -> datetime:
    """A moment in Beijing time: bj(2020, 7, 25, 22) is 2020-07-25 22:00 +08:00."""
    return datetime(*parts, tzinfo=BEIJING)


# Shanghai 2020: online filing opened 2020-07-01 09:00 and closed 2020-07-25 22:00.
OPENS, CLOSES = bj(2020, 7, 1, 9), bj(2020, 7, 25, 22)
JUNE, JULY = bj(2020, 6, 15), bj(2020, 7, 20)  # before any filing opens; while filing is open
AUGUST = Window(opens_at=bj(2020, 8, 1), closes_at=bj(2020, 8, 31))


def a_timeline() -> dict[Phase, Window]:
    return {
        Phase.REGISTRATION: Window(opens_at=None, closes_at=bj(2020, 6, 30, 17)),
        SUB: Window(opens_at=OPENS, closes_at=CLOSES),
        Phase.RECOMMENDATION: Window(opens_at=OPENS, closes_at=bj(2020, 8, 10, 17)),
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
        "actor": SEC,
    }
    return Campaign.open(**{**values, **overrides})


def given_campaign(**overrides: Any) -> Campaign:
    """An opened campaign whose Opened event has already been saved."""
    campaign = open_campaign(**overrides)
    campaign.collect_events()
    return campaign


def rules_of(refusal: pytest.ExceptionInfo[DomainError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in refusal.value.problems}


def by_secretariat(event: Any) -> bool:
    return (event.actor_id, event.actor_role) == ("sec-wang", "secretariat")


# Opening.


def test_opening_records_every_field_with_the_actor() -> None:
    reversed_timeline = dict(reversed(list(a_timeline().items())))
    campaign = open_campaign(title=" 活动 ", timeline=reversed_timeline, idempotency_key="req-1")

    [opened] = campaign.collect_events()

    assert isinstance(opened, Campaign.Opened)
    assert opened.originator_id == Campaign.create_id("saq", Programme.QC_GROUP, 2020)
    assert (opened.tenant, opened.programme, opened.year) == ("saq", Programme.QC_GROUP, 2020)
    assert (opened.title, opened.document_number, opened.theme) == (
        "活动",
        "沪质协〔2020〕7号",
        "提质增效",
    )
    assert opened.co_organisers == ["上海市总工会"]
    assert opened.contact == {
        **{"person": "王老师", "phone": "021-63000000", "email": "qc@saq.org.cn"},
        **{"department": "", "address": "", "postcode": ""},
    }
    assert (opened.period_start, opened.period_end) == (date(2019, 7, 1), date(2020, 6, 30))
    assert opened.rules == CampaignRules().to_state()
    assert list(opened.timeline) == ["registration", "submission", "recommendation", "publication"]
    assert opened.timeline["submission"] == {"opens_at": OPENS, "closes_at": CLOSES}
    assert opened.timeline["registration"]["opens_at"] is None
    assert opened.idempotency_key == "req-1"
    assert by_secretariat(opened)


def test_the_id_is_the_same_for_the_same_tenant_programme_and_year() -> None:
    first = open_campaign()

    assert open_campaign(title="另一个标题").id == first.id
    assert first.id == Campaign.create_id("saq", Programme.QC_GROUP, 2020)
    assert open_campaign(tenant="sdaq").id != first.id
    assert open_campaign(year=2021).id != first.id
    assert open_campaign(programme=Programme.TEAM).id != first.id


NAIVE = datetime(2020, 7, 25, 22)


def submission(opens_at: datetime | None, closes_at: datetime) -> dict[str, Any]:
    return {"timeline": {SUB: Window(opens_at=opens_at, closes_at=closes_at)}}


def contact(**fields: str) -> dict[str, Any]:
    return {"contact": Contact(**{"person": "王老师", "phone": "021", **fields})}


INVALID_OPENINGS: dict[str, tuple[dict[str, Any], str]] = {
    "empty-title": ({"title": "   "}, "title required"),
    "long-title": ({"title": "质" * 201}, "title max_length"),
    "year-too-early": ({"year": 1999}, "year range"),
    "year-too-late": ({"year": 2101}, "year range"),
    "period-reversed": ({"period_end": date(2019, 6, 30)}, "period_end period_order"),
    "window-reversed": (submission(CLOSES, OPENS), "timeline.submission.closes_at window_order"),
    "window-empty": (submission(OPENS, OPENS), "timeline.submission.closes_at window_order"),
    "naive-opens": (submission(NAIVE, CLOSES), "timeline.submission.opens_at timezone_required"),
    "naive-closes": (submission(None, NAIVE), "timeline.submission.closes_at timezone_required"),
    "empty-timeline": ({"timeline": {}}, "timeline required"),
    "bad-email": (contact(email="qc-at-saq.org.cn"), "contact.email email_format"),
    "bad-postcode": (contact(postcode="20000"), "contact.postcode postcode_format"),
    "empty-person": (contact(person=" "), "contact.person required"),
    "empty-co-organiser": ({"co_organisers": ["总工会", ""]}, "co_organisers[1] required"),
    "rules-min-above-max": (
        {"rules": CampaignRules(results_per_applicant_min=4, results_per_applicant_max=3)},
        "rules.results_per_applicant_max min_le_max",
    ),
    "rules-not-positive": ({"rules": CampaignRules(members_max=0)}, "rules.members_max positive"),
}


@pytest.mark.parametrize(("overrides", "problem"), INVALID_OPENINGS.values(), ids=INVALID_OPENINGS)
def test_opening_with_an_invalid_value_is_refused_naming_the_field(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidCampaign) as refused:
        open_campaign(**overrides)

    assert rules_of(refused) == {tuple(problem.split())}


# Windows close at an exact minute.


def test_a_command_at_the_closing_minute_is_refused_naming_the_window() -> None:
    campaign = given_campaign()
    campaign.check_phase_open(SUB, bj(2020, 7, 25, 21, 59, 59))

    with pytest.raises(CampaignConflict) as refused:
        campaign.check_phase_open(SUB, bj(2020, 7, 25, 22))

    assert rules_of(refused) == {("phase", "window_closed")}
    message = str(refused.value)
    assert "“成果申报”已截止（时间窗口：2020-07-01 09:00 至 2020-07-25 22:00）" in message


def test_open_phases_and_the_closing_minute_hold_in_any_offset() -> None:
    campaign = given_campaign()

    campaign.check_phase_open(SUB, datetime(2020, 7, 25, 13, 59, 59, tzinfo=UTC))
    with pytest.raises(CampaignConflict):
        campaign.check_phase_open(SUB, datetime(2020, 7, 25, 14, tzinfo=UTC))
    assert campaign.open_phases(bj(2020, 7, 25, 21, 59, 59)) == [SUB, Phase.RECOMMENDATION]
    assert campaign.open_phases(CLOSES) == [Phase.RECOMMENDATION]


def test_a_command_before_the_opening_minute_is_refused_as_not_yet_started() -> None:
    campaign = given_campaign()

    with pytest.raises(CampaignConflict) as refused:
        campaign.check_phase_open(SUB, bj(2020, 7, 1, 8, 59, 59))

    assert "“成果申报”尚未开始" in str(refused.value)
    campaign.check_phase_open(SUB, OPENS)


def test_a_window_without_an_opening_time_is_open_from_the_start() -> None:
    campaign = given_campaign()

    campaign.check_phase_open(Phase.REGISTRATION, bj(2000, 1, 1))
    assert campaign.open_phases(bj(2000, 1, 1)) == [Phase.REGISTRATION]
    assert campaign.window(Phase.REGISTRATION).describe() == "活动开始 至 2020-06-30 17:00"


# Commands accepted.


CONTEST = Window(opens_at=bj(2020, 9, 20, 8, 30), closes_at=bj(2020, 9, 20, 17))


@pytest.mark.parametrize(
    ("phase", "window"), [(SUB, AUGUST), (Phase.PRESENTATION, CONTEST)], ids=["moved", "added"]
)
def test_a_phase_not_yet_open_or_not_scheduled_can_be_rescheduled(
    phase: Phase, window: Window
) -> None:
    campaign = given_campaign()

    campaign.reschedule_phase(phase, window, JUNE, SEC)

    [rescheduled] = campaign.collect_events()
    assert isinstance(rescheduled, Campaign.PhaseRescheduled)
    assert rescheduled.phase is phase
    assert (rescheduled.opens_at, rescheduled.closes_at) == (window.opens_at, window.closes_at)
    assert by_secretariat(rescheduled)
    assert campaign.timeline[phase] == window
    assert phase in campaign.open_phases(window.closes_at - timedelta(seconds=1))


def test_extending_a_deadline_records_the_previous_and_new_deadline() -> None:
    campaign = given_campaign()
    at = JULY

    campaign.extend_deadline(SUB, bj(2020, 7, 31, 22), f" {REASON} ", at, SEC)

    [extended] = campaign.collect_events()
    assert isinstance(extended, Campaign.DeadlineExtended)
    assert extended.phase is SUB
    assert (extended.previous_closes_at, extended.closes_at) == (CLOSES, bj(2020, 7, 31, 22))
    assert extended.reason == REASON
    assert by_secretariat(extended)
    campaign.check_phase_open(SUB, bj(2020, 7, 28))


def test_rules_amended_before_submission_opens_record_only_the_changes() -> None:
    campaign = given_campaign()

    campaign.amend_rules({"members_max": 12}, "放宽人数", JUNE, SEC)

    [amended] = campaign.collect_events()
    assert isinstance(amended, Campaign.RulesAmended)
    assert (amended.changes, amended.reason) == ({"members_max": 12}, "放宽人数")
    assert by_secretariat(amended)
    assert campaign.rules == CampaignRules(members_max=12)


def test_without_a_submission_phase_the_recommendation_phase_fixes_the_rules() -> None:
    timeline = {phase: w for phase, w in a_timeline().items() if phase is not SUB}
    campaign = given_campaign(programme=Programme.TEAM, timeline=timeline)

    campaign.amend_rules({"evaluation_max_chars": 500}, "评价放宽", JUNE, SEC)
    with pytest.raises(CampaignConflict) as refused:
        campaign.amend_rules({"members_max": 12}, "放宽人数", OPENS, SEC)

    assert rules_of(refused) == {("rules", "filing_opened")}
    assert "“成果推荐”已于 2020-07-01 09:00" in str(refused.value)
    assert campaign.rules.evaluation_max_chars == 500


def test_results_are_published_once_and_the_status_follows() -> None:
    campaign = given_campaign()
    assert campaign.status == "open"

    campaign.publish_results(bj(2020, 11, 1), SEC)
    with pytest.raises(CampaignConflict) as refused:
        campaign.publish_results(bj(2020, 11, 2), SEC)
    assert campaign.status == "published"
    campaign.archive("年度活动结束", SEC)

    published, archived = campaign.collect_events()
    assert isinstance(published, Campaign.ResultsPublished)
    assert published.published_at == bj(2020, 11, 1)
    assert rules_of(refused) == {("campaign", "already_published")}
    assert isinstance(archived, Campaign.Archived)
    assert archived.reason == "年度活动结束"
    assert by_secretariat(published) and by_secretariat(archived)
    assert campaign.status == "archived"


# Commands refused: nothing is recorded.

Command = Callable[[Campaign], None]
CONFLICTS = {
    "already_closed",
    "not_opened",
    "filing_opened",
    "window_closed",
    "archived",
    "already_published",
}


def amend(changes: dict[str, Any], reason: str = "改规则", at: datetime = JUNE) -> Command:
    return lambda c: c.amend_rules(changes, reason, at, SEC)


def extend(
    until: datetime, reason: str = REASON, at: datetime = JULY, phase: Phase = SUB
) -> Command:
    return lambda c: c.extend_deadline(phase, until, reason, at, SEC)


def reschedule(window: Window, at: datetime = JUNE) -> Command:
    return lambda c: c.reschedule_phase(SUB, window, at, SEC)


def publish(at: datetime) -> Command:
    return lambda c: c.publish_results(at, SEC)


BACKWARDS = Window(opens_at=AUGUST.closes_at, closes_at=AUGUST.opens_at)
REFUSALS: dict[str, tuple[Command, str]] = {
    "reschedule-start-once-opened": (reschedule(AUGUST, OPENS), "opens_at already_opened"),
    "reschedule-after-closing": (reschedule(AUGUST, bj(2020, 7, 26)), "phase already_closed"),
    "reschedule-into-past": (reschedule(Window(bj(2020, 6, 1), CLOSES)), "opens_at in_future"),
    "reschedule-to-now": (reschedule(Window(JUNE, CLOSES)), "opens_at in_future"),
    "reschedule-backwards": (reschedule(BACKWARDS), "timeline.submission.closes_at window_order"),
    "extend-to-deadline": (extend(CLOSES), "until later_than_deadline"),
    "extend-to-earlier": (extend(bj(2020, 7, 24)), "until later_than_deadline"),
    "extend-no-reason": (extend(bj(2020, 7, 31), reason=" "), "reason required"),
    "extend-naive": (extend(datetime(2020, 7, 31)), "until timezone_required"),
    "extend-unscheduled": (extend(bj(2020, 9, 1), phase=Phase.GRADING), "phase not_scheduled"),
    "extend-a-closed-phase": (extend(bj(2020, 8, 8), at=bj(2020, 8, 1)), "phase already_closed"),
    "extend-before-opening": (extend(bj(2020, 8, 8), at=JUNE), "phase not_opened"),
    "amend-filing-opened": (amend({"members_max": 12}, at=OPENS), "rules filing_opened"),
    "amend-unknown-rule": (amend({"fee_per_result": 0}), "rules.fee_per_result unknown_rule"),
    "amend-min-above-max": (
        amend({"results_per_applicant_min": 4}),
        "rules.results_per_applicant_max min_le_max",
    ),
    "amend-to-zero": (amend({"members_max": 0}), "rules.members_max positive"),
    "amend-nothing": (amend({}), "rules required"),
    "amend-no-reason": (amend({"members_max": 12}, reason=" "), "reason required"),
    "publish-before-window": (publish(bj(2020, 10, 31, 23, 59, 59)), "phase window_closed"),
    "publish-after-window": (publish(bj(2020, 12, 31)), "phase window_closed"),
    "archive-no-reason": (lambda c: c.archive(" ", SEC), "reason required"),
}


@pytest.mark.parametrize(("command", "problem"), REFUSALS.values(), ids=REFUSALS)
def test_a_command_breaking_a_rule_is_refused_naming_the_rule(
    command: Command, problem: str
) -> None:
    campaign = given_campaign()
    field, rule = problem.split()

    with pytest.raises(CampaignConflict if rule in CONFLICTS else InvalidCampaign) as refused:
        command(campaign)

    assert rules_of(refused) == {(field, rule)}
    assert campaign.collect_events() == []


LATER_COMMANDS: dict[str, Command] = {
    "reschedule": reschedule(AUGUST),
    "extend": extend(bj(2020, 7, 31)),
    "amend": amend({"members_max": 12}),
    "publish": publish(bj(2020, 11, 1)),
    "archive": lambda c: c.archive("再次归档", SEC),
}


@pytest.mark.parametrize("command", LATER_COMMANDS.values(), ids=LATER_COMMANDS)
def test_an_archived_campaign_refuses_every_later_command(command: Command) -> None:
    campaign = given_campaign()
    campaign.archive("活动取消", SEC)
    campaign.collect_events()

    with pytest.raises(CampaignConflict) as refused:
        command(campaign)

    assert rules_of(refused) == {("campaign", "archived")}
    assert campaign.collect_events() == []


@pytest.mark.parametrize(
    "changes",
    [{"score_aggregation": "median"}, {"members_max": None}, {"members_max": "12"}],
    ids=["unknown-aggregation", "none-for-a-required-number", "text-for-a-number"],
)
def test_a_rule_value_of_the_wrong_kind_is_refused(changes: dict[str, Any]) -> None:
    # Once recorded, such a value makes the rules unreadable (ValueError) or meaningless.
    campaign = given_campaign()

    with pytest.raises(InvalidCampaign):
        amend(changes)(campaign)

    assert campaign.collect_events() == []


# Rules.


def test_rule_defaults_are_the_seeds_for_each_programme() -> None:
    team = CampaignRules.defaults_for(Programme.TEAM)
    qc = CampaignRules.defaults_for(Programme.QC_GROUP)

    assert team.recommendations_per_applicant_max == 2
    assert (team.results_per_applicant_max, team.distinct_topic_types) == (None, False)
    assert (qc.results_per_applicant_min, qc.results_per_applicant_max) == (2, 3)
    assert (qc.members_max, qc.evaluation_max_chars, qc.work_summary_min_chars) == (10, 300, 3000)


def test_rules_from_other_versions_ignore_unknown_keys_and_default_missing_ones() -> None:
    state = {"members_max": 8, "score_aggregation": "trimmed_mean", "a_future_rule": 1}

    rules = CampaignRules.from_state(state)

    assert rules == CampaignRules(members_max=8, score_aggregation=ScoreAggregation.TRIMMED_MEAN)
    assert rules.score_aggregation is ScoreAggregation.TRIMMED_MEAN
    assert CampaignRules.from_state({}) == CampaignRules()


# Replay.


def test_replaying_the_recorded_events_rebuilds_the_same_campaign() -> None:
    campaign = open_campaign()
    campaign.reschedule_phase(Phase.PRESENTATION, CONTEST, JUNE, SEC)
    changes = {"score_aggregation": ScoreAggregation.TRIMMED_MEAN, "recommending_unit_quota": 20}
    campaign.amend_rules(changes, "去掉最高分和最低分", JUNE, SEC)
    campaign.extend_deadline(SUB, bj(2020, 7, 31, 22), REASON, JULY, SEC)
    campaign.publish_results(bj(2020, 11, 1), SEC)
    events = campaign.collect_events()

    replayed = events[0].mutate(None)
    for recorded in events[1:]:
        replayed = recorded.mutate(replayed)

    assert all(by_secretariat(e) for e in events)
    assert (replayed.id, replayed.version) == (campaign.id, 5)
    assert replayed.timeline == campaign.timeline
    assert replayed.timeline[SUB].closes_at == bj(2020, 7, 31, 22)
    assert replayed.rules == campaign.rules
    assert replayed.rules.recommending_unit_quota == 20
    assert replayed.status == campaign.status == "published"
