"""One programme and year of every tenant, run through the ledgers' real commands: the campaign
opened and planned, registrations and submissions filed, recommendation forms with statistics
tables and work summaries, formal review, expert rounds with score sheets, grading, public notice
and publication, and the forwarding to the national tenant with its outcomes coming back."""

from __future__ import annotations

import contextlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import NamedTuple
from uuid import UUID

from eventsourcing.domain import CanCreateTimestamp

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Contact, Phase, Programme, Window
from aggregates.expert import ExpertProfile
from aggregates.ledger.application import AssociationLedger
from aggregates.recommendation import Reviewer
from aggregates.submission import (
    DIRECT_CHANNEL,
    REQUIRED_ATTACHMENTS,
    Submission,
    SubmissionStatus,
)
from aggregates.submission_forms import Form, QcResultForm, TopicType
from api.demo import season_forms as forms
from api.demo import season_review as review
from api.demo import season_world as w
from api.demo.paperwork import Paper, Paperwork
from tenants.registry import Tenant
from tenants.runtime import facts_of

DAY = timedelta(days=1)
Step = tuple[datetime, int, Callable[[], None]]


class Span(NamedTuple):
    """A window with both ends."""

    opens_at: datetime
    closes_at: datetime


class SimulatedTime:
    """Business time of the generated history: the ledgers' clock and, while `running()`, the
    library's event timestamps (so events carry the date they happened, not today's)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def spread(self, start: datetime, end: datetime, count: int) -> Iterator[datetime]:
        """`count` moments evenly spread over [start, end), each also made the current one."""
        step = (end - start) / max(count, 1)
        for i in range(count):
            self.at(start + step * i)
            yield self.now

    def later(self, minutes: float = 7) -> None:
        self.now += timedelta(minutes=minutes)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        original = CanCreateTimestamp.__dict__["create_timestamp"]
        CanCreateTimestamp.create_timestamp = staticmethod(self)  # type: ignore[method-assign]
        try:
            yield
        finally:
            CanCreateTimestamp.create_timestamp = original  # type: ignore[method-assign]


@contextlib.contextmanager
def business_time(ledgers: list[AssociationLedger], time: SimulatedTime) -> Iterator[None]:
    """Run real ledgers on generated time (their clocks and the events' timestamps), putting
    their own clocks back afterwards."""
    clocks = [ledger.clock for ledger in ledgers]
    try:
        for ledger in ledgers:
            ledger.clock = time
        with time.running():
            yield
    finally:
        for ledger, clock in zip(ledgers, clocks, strict=True):
            ledger.clock = clock


@dataclass
class Tenancy:
    """A tenant while its history is generated: its ledger, applicants and reviewer pool."""

    tenant: Tenant
    ledger: AssociationLedger
    applicants: list[w.Applicant]
    rng: random.Random
    profiles: dict[str, ExpertProfile] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    paperwork: Paperwork = field(default_factory=Paperwork)
    """Metadata-only attachments unless given the tenant's file store (the demo's)."""

    def __post_init__(self) -> None:
        code = self.tenant.code
        self.ledger.facts = facts_of(self.tenant)
        self.secretariat = Actor(f"{code}-secretariat-{self.rng.randrange(1, 4)}", Role.SECRETARIAT)
        self.by_code = {a.credit_code: a for a in self.applicants}

    @property
    def national(self) -> bool:
        return self.tenant.national_parent is None

    def unit_actor(self, unit: str) -> Actor:
        return Actor(f"{self.tenant.code}-unit-{unit}", Role.RECOMMENDING_UNIT)

    def applicant_actor(self, credit_code: str) -> Actor:
        return Actor(self.by_code[credit_code].account, Role.APPLICANT_UNIT)

    @property
    def pool(self) -> list[str]:
        return [n for n in self.profiles if n not in self.retired]


class Season:
    """One programme and year: every tenant's steps, each dated; `sizes` says how many
    applicant units take part per tenant."""

    def __init__(
        self,
        tenancies: dict[str, Tenancy],
        time: SimulatedTime,
        year: int,
        programme: Programme,
        sizes: dict[str, int],
    ) -> None:
        self.tenancies, self.time, self.year, self.programme = tenancies, time, year, programme
        self.sizes = sizes
        self.filed: dict[str, list[UUID]] = defaultdict(list)

    def steps(self) -> list[Step]:
        """Each tenant's steps, dated the day each starts (and in order within a day)."""
        found: list[Step] = []
        for t in self.tenancies.values():
            timeline = w.timeline(self.year, t.national)
            material = timeline[Phase.MATERIAL_REVIEW]
            grading = timeline.get(Phase.GRADING, Window(None, material.closes_at - DAY))
            dated: list[tuple[datetime | None, Callable[[Tenancy], None]]] = [
                (w.beijing(self.year, 1, 20 if t.national else 5), self.open),
                (timeline[Phase.SUBMISSION].opens_at, self.file),
                (timeline[Phase.SUBMISSION].closes_at, self.recommend),
                (timeline[Phase.FORMAL_REVIEW].opens_at, partial(review.formal, self)),
                (material.opens_at, partial(review.rounds, self)),
                (grading.opens_at or grading.closes_at, partial(review.grade, self)),
            ]
            if not t.national:
                forwarding = timeline[Phase.NATIONAL_FORWARDING].opens_at
                dated.append((forwarding or material.closes_at, partial(review.forward, self)))
            found += [(when, i, partial(step, t)) for i, (when, step) in enumerate(dated) if when]
        return sorted(found, key=lambda s: (s[0], s[1]))

    def campaign_id(self, t: Tenancy) -> UUID:
        return Campaign.create_id(t.tenant.code, self.programme, self.year)

    def window(self, t: Tenancy, phase: Phase) -> Span:
        """The phase's window in the generated calendar, where every phase has both ends."""
        found = w.timeline(self.year, t.national)[phase]
        if found.opens_at is None or found.closes_at is None:
            raise ValueError(f"the generated calendar leaves {phase} open-ended")
        return Span(found.opens_at, found.closes_at)

    # January: archive, reviewer pool, open, plan.

    def open(self, t: Tenancy) -> None:
        ledger, rng, sec, code = t.ledger, t.rng, t.secretariat, t.tenant.code
        self.time.at(w.beijing(self.year, 1, 5 if not t.national else 20, 9))
        old = ledger._find(Campaign.create_id(code, self.programme, self.year - 3), Campaign)
        if old is not None and not old.archived:
            ledger.archive_campaign(old.id, "活动已结束三年，资料归档", sec)
        if self.programme is Programme.QC_GROUP:
            self.maintain_pool(t)
        name = t.tenant.programmes[self.programme].name_zh
        contact = t.tenant.contact
        campaign = ledger.open_campaign(
            programme=self.programme,
            year=self.year,
            title=f"{self.year}年{t.tenant.short_name_zh}{name}",
            document_number=f"{t.tenant.short_name_zh}〔{self.year}〕{rng.randrange(3, 40)}号",
            theme=rng.choice((None, "质量强国 创新发展", "全员参与 持续改进")),
            co_organisers=list(t.tenant.co_organisers),
            contact=Contact(
                contact.person,
                contact.phone,
                contact.department,
                contact.email,
                contact.address,
                contact.postcode,
            ),
            period_start=date(self.year - 1, 1, 1),
            period_end=date(self.year - 1, 12, 31),
            rules=w.rules(t.tenant, self.programme),
            timeline=w.timeline(self.year, t.national),
            actor=sec,
            idempotency_key=f"bench:{code}:{self.programme}:{self.year}",
        ).aggregate
        if rng.random() < 0.15:
            self.time.later(60 * 24)
            ledger.amend_rules(
                campaign.id, {"evaluation_max_chars": 400}, "根据推荐单位意见放宽成果评价字数", sec
            )
        if rng.random() < 0.3:
            meeting = Window(w.beijing(self.year, 11, 10, 9), w.beijing(self.year, 11, 12, 17))
            ledger.reschedule_phase(campaign.id, Phase.EXCHANGE_MEETING, meeting, sec)
        grades = {g.code for g in t.tenant.programmes[self.programme].grades}
        ledger.plan_review(campaign.id, w.review_plan(t.tenant, self.programme), grades, sec)

    def maintain_pool(self, t: Tenancy) -> None:
        """Once a year: certificates renewed, some reviewers retired, new ones enrolled to the
        size this year's rounds need, a few conflicts of interest declared."""
        ledger, rng, sec = t.ledger, t.rng, t.secretariat
        for number in t.pool:
            profile = t.profiles[number]
            if profile.certificate.valid_until < date(self.year, 12, 31):
                renewed = replace(profile.certificate, valid_until=date(self.year + 4, 12, 31))
                t.profiles[number] = replace(profile, certificate=renewed)
                ledger.change_expert(number, t.profiles[number], sec)
            elif rng.random() < 0.03:
                ledger.retire_expert(number, "本人申请退出专家库", sec)
                t.retired.add(number)
        target = max(24, self.sizes[t.tenant.code] // 4)
        while len(t.pool) < target:
            n = len(t.profiles) + 1
            profile = w.expert_profile(t.tenant, n, self.year, rng, t.applicants)
            ledger.enrol_expert(profile, sec)
            t.profiles[profile.certificate.number] = profile
        for number in rng.sample(t.pool, k=2):
            code = rng.choice(t.applicants).credit_code
            if any(c["value"] == code for c in ledger.get_expert(number).conflicts):
                continue
            reviewer = Actor(f"{t.tenant.code}-reviewer-{number}", Role.REVIEWER)
            ledger.declare_conflict(number, "applicant", code, "曾在该单位兼职", reviewer)

    # Spring: registrations and submissions.

    def forms(self, t: Tenancy, applicant: w.Applicant) -> list[Form]:
        rng, rules = t.rng, w.rules(t.tenant, self.programme)
        if self.programme is Programme.TEAM:
            return [forms.team_form(applicant, rng) for _ in range(rng.choice((1, 1, 1, 2)))]
        low, high = rules.results_per_applicant_min, min(rules.results_per_applicant_max or 3, 3)
        kinds = [TopicType.PROBLEM_SOLVING, TopicType.INNOVATIVE, TopicType.PROBLEM_SOLVING]
        return [forms.qc_form(applicant, kind, rng) for kind in kinds[: rng.randint(low, high)]]

    def file(self, t: Tenancy) -> None:
        ledger, rng, cid = t.ledger, t.rng, self.campaign_id(t)
        window, registration = self.window(t, Phase.SUBMISSION), self.window(t, Phase.REGISTRATION)
        end = min(window.closes_at, registration.closes_at) - 2 * DAY
        chosen = rng.sample(t.applicants, k=min(self.sizes[t.tenant.code], len(t.applicants)))
        moments = self.time.spread(window.opens_at or end, end, len(chosen))
        for applicant, _ in zip(chosen, moments, strict=True):
            actor = t.applicant_actor(applicant.credit_code)
            entered = w.registration_form(applicant, rng)
            r = ledger.register_for_campaign(cid, applicant.credit_code, entered, actor)
            if rng.random() < 0.1:
                self.time.later()
                ledger.change_registration(
                    r.id,
                    replace(entered, postcode=applicant.postcode[:5] + "1"),
                    actor,
                )
            counted: list[object] = []  # topic types the register counts for this unit
            for k, form in enumerate(self.forms(t, applicant)):
                self.time.later(60)
                self.file_one(t, cid, applicant, k, form, actor, counted)

    def file_one(
        self,
        t: Tenancy,
        cid: UUID,
        applicant: w.Applicant,
        k: int,
        form: Form,
        actor: Actor,
        counted: list[object],
    ) -> None:
        """Draft, maybe edit, attach, then submit (unless left as a draft, or the register's
        rule on differing topic types would refuse it); now and then endorse or withdraw."""
        ledger, rng = t.ledger, t.rng
        topic = getattr(form, "topic_type", None)
        same = bool(counted) and all(c == topic for c in counted)
        refused = (
            same and topic is not None and w.rules(t.tenant, self.programme).distinct_topic_types
        )
        submission, _ = ledger.draft_submission(
            campaign_id=cid,
            credit_code=applicant.credit_code,
            applicant=applicant.block,
            recommending_unit=applicant.unit,
            form=form,
            actor=actor,
            idempotency_key=f"bench-{self.year}-{k}",
        )
        if rng.random() < 0.2:
            self.time.later(120)
            changed: Form = (
                replace(form, intro=forms.text(rng, 850, 1180))
                if isinstance(form, QcResultForm)
                else replace(form, leader=w.person(rng))
            )
            ledger.edit_submission(submission.id, changed, applicant.unit, actor)
        paper = partial(Paper.of, form, applicant.block)
        for kind in REQUIRED_ATTACHMENTS[self.programme]:
            t.paperwork.attach(ledger, submission.id, kind, rng, actor, paper)
        if rng.random() < 0.05:
            first = ledger.get_submission(submission.id).attachments[0]
            ledger.remove_attachment(submission.id, first.sha256, actor)
            t.paperwork.attach(ledger, submission.id, first.kind, rng, actor, paper)
        if refused or rng.random() < 0.07:
            return  # left as a draft
        self.time.later(180)
        ledger.submit_submission(submission.id, actor)
        if rng.random() < 0.25:
            score = Decimal(rng.randrange(70, 96))
            ledger.endorse_submission(
                submission.id, forms.text(rng, 60, 150), "同意申报", score, actor
            )
        counted.append(topic)
        if rng.random() < 0.03:
            ledger.withdraw_submission(submission.id, "单位内部调整，暂不参加本年度活动", actor)
            counted.remove(topic)
        self.filed[t.tenant.code].append(submission.id)

    # Late spring: recommendation forms, statistics tables, work summaries.

    def recommend(self, t: Tenancy) -> None:
        ledger, cid = t.ledger, self.campaign_id(t)
        start = self.window(t, Phase.SUBMISSION).closes_at
        end = self.window(t, Phase.RECOMMENDATION).closes_at - 2 * DAY
        by_unit: dict[str, list[Submission]] = defaultdict(list)
        for submission_id in self.filed[t.tenant.code]:
            submission = ledger.get_submission(submission_id)
            if submission.status is SubmissionStatus.SUBMITTED:
                by_unit[submission.recommending_unit].append(submission)
        direct = by_unit.pop(DIRECT_CHANNEL, [])
        units = sorted(by_unit)
        for unit, _ in zip(units, self.time.spread(start, end, len(units)), strict=True):
            self.recommendation(t, ledger.get_campaign(cid), unit, by_unit[unit])
        for submission in direct:
            self.time.later()
            ledger.confirm_direct_channel(submission.id, t.secretariat)

    def recommendation(
        self, t: Tenancy, campaign: Campaign, unit: str, entries: list[Submission]
    ) -> None:
        """A recommending unit's form: its panel, an entry per result (within the per-applicant
        limit and the quota, which the secretariat sometimes raises), a few declined, the
        declaration and filing (now and then returned and filed again); then its statistics
        table and work summary; very rarely declared invalid."""
        rng, actor, sec = t.rng, t.unit_actor(unit), t.secretariat
        ledger, cid = t.ledger, campaign.id
        roster = self.panel(t, unit)
        for reviewer in roster:
            ledger.add_recommendation_reviewer(cid, unit, reviewer, actor)
        quota = t.ledger.get_recommendation(campaign.id, unit).quota(campaign)
        limit = campaign.rules.recommendations_per_applicant_max or len(entries)
        per_applicant: Counter[str] = Counter()
        listed: list[UUID] = []
        for submission in entries:
            if quota is not None and len(listed) >= quota and rng.random() < 0.3:
                ledger.grant_recommendation_quota(
                    cid, unit, 3, "该单位参评成果较多，增加推荐名额", sec
                )
                quota += 3
            full = quota is not None and len(listed) >= quota
            if full or per_applicant[submission.credit_code] >= limit or rng.random() < 0.04:
                reason = "推荐名额已满" if full else "经推荐单位评审组评议，暂不推荐"
                ledger.decline_submission(cid, unit, submission.id, reason, actor)
                continue
            number = rng.choice(roster).certificate_number
            score, evaluation = Decimal(rng.randrange(60, 96)), forms.text(rng, 60, 180)
            ledger.add_recommendation_entry(
                cid, unit, submission.id, score, evaluation, number, actor
            )
            per_applicant[submission.credit_code] += 1
            listed.append(submission.id)
        if not listed:
            return
        if len(listed) > 1 and rng.random() < 0.1:
            order = listed[1:] + listed[:1]
            ledger.reorder_recommendation(cid, unit, order, actor)
        filled_by, phone = w.person(rng), w.mobile(rng)
        ledger.declare_recommendation(cid, unit, filled_by, phone, actor)
        ledger.file_recommendation(cid, unit, actor)
        if rng.random() < 0.05:
            self.time.later(60 * 24)
            reason = "推荐表评委名单缺少证书编号，请补充后重新报送"
            ledger.return_recommendation(cid, unit, reason, sec)
            ledger.file_recommendation(cid, unit, actor)
        self.reports(t, campaign.id, unit, sorted({s.credit_code for s in entries}))
        if rng.random() < 0.01:
            ledger.invalidate_recommendation(cid, unit, "推荐单位评审组成员不具备评审资格", sec)

    def panel(self, t: Tenancy, unit: str) -> list[Reviewer]:
        """The unit's own reviewers; now and then one of the tenant's pool among them (who may
        then not review this unit's results)."""
        rng = t.rng
        roster = [
            Reviewer(w.person(rng), f"{unit}质量协会", f"{unit.upper()}-{self.year}-{i}",
                     w.mobile(rng), "评审员")
            for i in range(rng.randint(2, 4))
        ]  # fmt: skip
        if rng.random() < 0.2:
            number = rng.choice(t.pool)
            p = t.profiles[number]
            roster[0] = Reviewer(p.name, p.work_unit, number, p.mobile, p.certificate.kind)
        return roster

    def reports(self, t: Tenancy, cid: UUID, unit: str, enterprises: list[str]) -> None:
        """The unit's statistics table and work summary, each sometimes revised."""
        rng, actor = t.rng, t.unit_actor(unit)
        form = forms.statistics_form(self.programme, self.year, enterprises, w.person(rng), rng)
        t.ledger.record_statistics(cid, unit, form, actor)
        if rng.random() < 0.2:
            t.ledger.record_statistics(cid, unit, replace(form, review_forms=["资料评审"]), actor)
        t.ledger.write_summary(cid, unit, forms.work_summary(unit, self.year, rng), actor)
        if rng.random() < 0.1:
            t.ledger.write_summary(cid, unit, forms.work_summary(unit, self.year, rng), actor)
