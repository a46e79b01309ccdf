"""The review half of a generated season (see rebuild_season.py): formal review with returns and
resubmissions, expert rounds (assignment, releases, score sheets and corrections, aggregation),
grading with overrides, public notice with objections, publication, and forwarding to national."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING
from uuid import UUID

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase
from aggregates.forwarding import NationalCall
from aggregates.grading import Grading
from aggregates.review_round import ReviewRound
from aggregates.submission import DIRECT_CHANNEL, AttachmentKind, Submission, SubmissionStatus
from aggregates.submission_register import SubmissionRegister
from api.demo import season_forms as forms
from api.demo import season_world as w
from api.demo.paperwork import Paper

if TYPE_CHECKING:
    from api.demo.season import Season, Tenancy

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _recommended(t: Tenancy, submission: Submission) -> bool:
    """Whether formal review may look at it (what the ledger's own check requires)."""
    if submission.received_from is not None:
        return True
    if submission.recommending_unit == DIRECT_CHANNEL:
        return submission.direct_channel_confirmed
    found = t.ledger.find_recommendation(submission.campaign_id, submission.recommending_unit)
    return found is not None and found.decision_on(submission.id)[0] == "recommended"


def formal(season: Season, t: Tenancy) -> None:
    """形式审查: most pass; some are returned for correction (the applicant replaces the form and
    resubmits, then they pass); a few are rejected."""
    ledger, rng, sec, cid = t.ledger, t.rng, t.secretariat, season.campaign_id(t)
    campaign = ledger.get_campaign(cid)
    register = ledger._find(SubmissionRegister.create_id(cid), SubmissionRegister)
    if register is None:
        return
    found = [ledger.get_submission(UUID(key)) for key in register.entries]
    eligible = [s for s in found if s.status is SubmissionStatus.SUBMITTED and _recommended(t, s)]
    items = campaign.review_plan.checklist
    window = season.window(t, Phase.FORMAL_REVIEW)
    returned = []
    moments = season.time.spread(window.opens_at + HOUR, window.closes_at - 4 * DAY, len(eligible))
    for submission, _ in zip(eligible, moments, strict=True):
        roll = rng.random()
        unmet = {item: i != 2 for i, item in enumerate(items)}
        if roll < 0.05:
            ledger.review_formally(submission.id, "reject", unmet, "成果非近两年内取得", [], sec)
        elif roll < 0.14 and submission.received_from is None:
            ledger.review_formally(
                submission.id, "return", unmet, "", ["盖章申报表不清晰，请重新上传"], sec
            )
            returned.append(submission)
        else:
            ledger.review_formally(submission.id, "pass", dict.fromkeys(items, True), "", [], sec)
    moments = season.time.spread(window.closes_at - 4 * DAY, window.closes_at - DAY, len(returned))
    for submission, _ in zip(returned, moments, strict=True):
        actor = t.applicant_actor(submission.credit_code)
        form = next(a for a in submission.attachments if a.kind is AttachmentKind.APPLICATION_FORM)
        ledger.remove_attachment(submission.id, form.sha256, actor)
        paper = partial(Paper.filed, ledger, submission.id)
        t.paperwork.attach(ledger, submission.id, form.kind, rng, actor, paper)
        ledger.resubmit_submission(submission.id, actor)
        season.time.later(60 * 5)
        ledger.review_formally(submission.id, "pass", dict.fromkeys(items, True), "", [], sec)


def _fraction(key: str) -> float:
    """A stable number in [0, 1) for a key: a result's quality, a reviewer's leniency."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32


def rounds(season: Season, t: Tenancy) -> None:
    """Every round of the plan: entrants (all that passed, then the best), reviewers assigned
    automatically (a few released and replaced), a sheet per assignment (a few corrected), the
    scores aggregated and the round closed."""
    ledger, rng, sec, cid = t.ledger, t.rng, t.secretariat, season.campaign_id(t)
    campaign = ledger.get_campaign(cid)
    plans = campaign.review_plan.rounds
    register = ledger._find(SubmissionRegister.create_id(cid), SubmissionRegister)
    if register is None or not any(
        getattr(ledger.get_submission(UUID(k)), "formal_review", None) == "passed"
        for k in register.entries
    ):
        return
    material = season.window(t, Phase.MATERIAL_REVIEW)
    materials = [p for p in plans if p.kind == "material"]
    span = (material.closes_at - material.opens_at) / len(materials)
    previous = 0
    for i, plan in enumerate(plans):
        if plan.kind == "presentation":
            window = season.window(t, Phase.PRESENTATION)
            start, end = window.opens_at, window.closes_at
        else:
            start = material.opens_at + span * i
            end = start + span
        season.time.at(start + 2 * HOUR)
        top = None if i == 0 else max(3, int(previous * (0.4 if plan.kind == "material" else 0.35)))
        review_round = ledger.open_round(cid, plan.code, None, top, sec)
        previous = len(review_round.entrants)
        if plan.kind == "presentation":
            for entrant in review_round.entrants.values():
                sid, actor = entrant["submission_id"], t.applicant_actor(entrant["credit_code"])
                paper = partial(Paper.filed, ledger, sid)
                t.paperwork.attach(ledger, sid, AttachmentKind.SLIDES, rng, actor, paper)
                if rng.random() < 0.9:
                    t.paperwork.attach(ledger, sid, AttachmentKind.VIDEO, rng, actor, paper)
        ledger.assign_automatically(cid, plan.code, t.pool, sec)
        review_round = ledger.get_round(cid, plan.code)  # as saved (a ledger may copy it)
        pairs = [(k, r) for k, rs in review_round.assignments.items() for r in rs]
        released = [p for p in pairs if rng.random() < 0.01]
        for key, reviewer in released:
            ledger.release_reviewer(
                cid, plan.code, UUID(key), reviewer, "评委临时有事，无法参加评审", sec
            )
        if released:
            ledger.assign_automatically(cid, plan.code, t.pool, sec)
            review_round = ledger.get_round(cid, plan.code)
        pairs = [(k, r) for k, rs in review_round.assignments.items() for r in rs]
        moments = season.time.spread(start + DAY, end - 2 * DAY, len(pairs))
        for (key, reviewer), _ in zip(pairs, moments, strict=True):
            rubric = review_round.rubrics[review_round.entrants[key]["rubric"]]
            _file_sheet(t, rubric, key, reviewer, cid, plan.code)
        season.time.at(end - DAY)
        ledger.aggregate_round(cid, plan.code, sec)
        ledger.close_round(cid, plan.code, sec)


def _file_sheet(
    t: Tenancy, rubric: dict[str, int], key: str, reviewer: str, cid: UUID, code: str
) -> None:
    """A reviewer's sheet for one entrant: near the entrant's quality, with the reviewer's bias;
    now and then corrected by a second sheet naming the first."""
    rng = t.rng
    level = 0.55 + 0.4 * _fraction(key) + (_fraction(reviewer) - 0.5) / 10
    actor = Actor(f"{t.tenant.code}-reviewer-{reviewer}", Role.REVIEWER)
    corrects = None
    for attempt in range(2 if rng.random() < 0.03 else 1):
        this = level + rng.uniform(-0.04, 0.04)  # this sheet's level, with some noise
        criteria = {
            name: Decimal(max(0, min(points * 2, round(points * this * 2)))) / 2
            for name, points in rubric.items()
        }
        _, corrects = t.ledger.file_sheet(
            cid,
            code,
            submission_id=UUID(key),
            reviewer=reviewer,
            criteria=criteria,
            comment=forms.text(rng, 40, 120),
            corrects=corrects,
            reason="录入有误，更正" if attempt else "",
            actor=actor,
            sheet_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        )


def grade(season: Season, t: Tenancy) -> None:
    """Grades from the rounds; a few overridden; the public notice with objections resolved;
    publication with certificates (and, nationally, each outcome sent back)."""
    ledger, rng, sec, cid = t.ledger, t.rng, t.secretariat, season.campaign_id(t)
    campaign = ledger._find(cid, Campaign)
    if campaign is None or not campaign.review_plan.rounds:
        return
    plans = campaign.review_plan.rounds
    if ledger._find(ReviewRound.create_id(cid, plans[-1].code), ReviewRound) is None:
        return
    if Phase.GRADING in campaign.timeline:  # grading runs in its window
        season.time.at(season.window(t, Phase.GRADING).opens_at + 2 * HOUR)
    grading = ledger.grade_campaign(cid, sec)
    if rng.random() < 0.05:
        season.time.later(60 * 3)
        grading = ledger.grade_campaign(cid, sec)
    bands = [b.grade for b in campaign.review_plan.bands]
    for entry in rng.sample(grading.graded(), k=min(2, len(grading.graded()))):
        lower = [*bands[bands.index(entry["grade"]) + 1 :], None]
        ledger.override_grade(
            cid, entry["submission_id"], lower[0], "经评审委员会复核，调整等级", sec
        )
    notice = season.window(t, Phase.PUBLIC_NOTICE)
    season.time.at(notice.opens_at + 2 * HOUR)
    ledger.open_notice(cid, sec)
    entries = list(grading.entries.values())
    for entry in rng.sample(entries, k=min(rng.randrange(0, 4), len(entries))):
        season.time.later(60 * 24)
        objector = Actor(rng.choice(t.applicants).account, Role.APPLICANT_UNIT)
        _, objection = ledger.file_objection(
            cid, entry["submission_id"], forms.text(rng, 80, 300), objector
        )
        decision = "upheld" if rng.random() < 0.2 else "dismissed"
        ledger.resolve_objection(
            cid, objection, decision, "经核查，" + forms.text(rng, 40, 120), False, None, sec
        )
    publication = season.window(t, Phase.PUBLICATION)
    opens = publication.opens_at
    season.time.at(max(opens, notice.closes_at) + HOUR)
    ledger.close_notice(cid, sec)
    season.time.later(120)
    ledger.publish_results(cid, sec)


def forward(season: Season, t: Tenancy) -> None:
    """推荐全国: the best graded results up to the national quota (sometimes raised), then the
    statistics table and work summary; now and then a forward withdrawn. The national intake
    records each as it is saved (see `follow` in rebuild_dataset.py)."""
    ledger, rng, sec, cid = t.ledger, t.rng, t.secretariat, season.campaign_id(t)
    national = season.tenancies.get(t.tenant.national_parent or "")
    grading = ledger._find(Grading.create_id(cid), Grading)
    if national is None or grading is None or not grading.certificates:
        return
    ncid = Campaign.create_id(national.tenant.code, season.programme, season.year)
    ncampaign = national.ledger._find(ncid, Campaign)
    if ncampaign is None:
        return
    unit = next(u.code for u in national.tenant.recommending_units if u.tenant == t.tenant.code)
    season.time.at(w.beijing(season.year, 9, 12, 10))
    if rng.random() < 0.2:
        national.ledger.grant_forwarding_quota(
            ncid, unit, t.tenant.code, 5, "该协会参评成果较多，增加推荐名额", national.secretariat
        )
    call = NationalCall(
        tenant=national.tenant.code,
        tenant_name=national.tenant.name_zh,
        campaign=ncampaign,
        unit=unit,
        quota=national.ledger.forwarding_quota(ncampaign, unit),
    )
    picks = grading.graded()[: call.quota or None]
    end = w.beijing(season.year, 10, 15)
    for entry, _ in zip(picks, season.time.spread(season.time.now, end, len(picks)), strict=True):
        ledger.forward_result(cid, entry["submission_id"], call, forms.text(rng, 80, 250), sec)
    enterprises = sorted({t.ledger.get_submission(e["submission_id"]).credit_code for e in picks})
    if enterprises:
        form = forms.statistics_form(season.programme, season.year, enterprises, w.person(rng), rng)
        ledger.forward_report(
            cid, call, form, forms.work_summary(t.tenant.name_zh, season.year, rng), sec
        )
    if picks and rng.random() < 0.3:
        season.time.later(60 * 24)
        ledger.withdraw_forward(
            cid, picks[-1]["submission_id"], "该成果所在单位发生质量事故，撤回推荐", sec
        )
