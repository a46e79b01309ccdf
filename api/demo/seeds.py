"""Demo data: the seeds' campaigns, opened through the ledgers as a secretariat would, and a
living demo (see `build_demo`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import msgspec

from aggregates.account import AccountStatus, Grant
from aggregates.actor import ROLE_NAMES_ZH, Actor, Role
from aggregates.campaign import Campaign, CampaignAlreadyOpened, Contact, Phase, Programme, Window
from aggregates.submission import REQUIRED_ATTACHMENTS
from aggregates.submission_forms import TopicType
from api.accounts.auth_store import AuthStore
from api.campaigns.schemas import OpenCampaignRequest
from api.demo import season_forms, season_world
from api.demo.paperwork import Paper, Paperwork
from api.demo.season import Season, SimulatedTime, Tenancy, business_time
from api.demo.season_world import BEIJING, Applicant, beijing, population
from projections.store import open_view_database
from tenants.runtime import Platform, TenantRuntime

QC = Programme.QC_GROUP

DEMO_FILE = Path(__file__).with_name("demo_campaigns.toml")
DEMO_ACTOR = Actor(user_id="qcflow-demo", role=Role.OPERATOR)


class DemoCampaign(OpenCampaignRequest, kw_only=True):
    tenant: str
    no_limits: list[str] = []
    """Rules the notice leaves unlimited (TOML has no null)."""


class DemoFile(msgspec.Struct, forbid_unknown_fields=True):
    campaigns: list[DemoCampaign]


def load_demo(platform: Platform, path: Path = DEMO_FILE) -> list[str]:
    """Open each demo campaign not open yet; returns a line per campaign saying what happened."""
    demo = msgspec.toml.decode(path.read_bytes(), type=DemoFile)
    report = []
    for campaign in demo.campaigns:
        runtime = platform.get(campaign.tenant)
        if runtime is None:
            report.append(f"{campaign.tenant}: no such tenant, skipped {campaign.title}")
            continue
        command = campaign.command(runtime.tenant)
        command["rules"] = replace(command["rules"], **dict.fromkeys(campaign.no_limits))
        key = f"demo:{campaign.tenant}:{campaign.programme}:{campaign.year}"
        try:
            saved = runtime.ledger.open_campaign(**command, actor=DEMO_ACTOR, idempotency_key=key)
        except CampaignAlreadyOpened:
            report.append(f"{campaign.tenant}: already open (not by the demo): {campaign.title}")
            continue
        verb = "opened" if saved.created else "already there"
        report.append(f"{campaign.tenant}: {verb}: {campaign.title}")
    return report


# A living demo: for each provincial tenant, last year's QC season run to publication and this
# year's open now, both through the ledgers' real commands (api/demo/season.py), and an account per
# role of the demo, without a password (signed in by the one-time links of `qcflow serve --demo`).

SEED = 18
"""The generated population's seed: the same units, names and credit codes on every machine."""
LAST_YEAR_APPLICANTS = 10
"""Applicant units of each tenant taking part in last year's season (about 20 results)."""
OPEN_APPLICANTS = 4
"""Of those, the ones that have registered and filed this year so far."""
DEMO_ROLES = (
    Role.SECRETARIAT,
    Role.APPLICANT_UNIT,
    Role.RECOMMENDING_UNIT,
    Role.REVIEWER,
    Role.AUDITOR,
)
LINK_TENANTS = ("saq", "sdaq")
"""The tenants whose demo accounts get a sign-in link at each demo start."""
DAY = timedelta(days=1)


def demo_login(tenant: str, role: Role) -> str:
    return f"demo-{role.value.replace('_', '-')}@{tenant}.qcflow.example.cn"


def provincial(platform: Platform) -> list[TenantRuntime]:
    """The tenants that forward to a national one (saq, sdaq, cmiqa)."""
    return [r for r in platform.tenants.values() if r.tenant.national_parent is not None]


def build_demo(platform: Platform) -> list[str]:
    """The seeds' campaigns, then the living demo; safe to repeat (a second run changes
    nothing). "Today" is the ledgers' business time."""
    return load_demo(platform) + build_seasons(platform)


def build_seasons(platform: Platform) -> list[str]:
    runtimes = provincial(platform)
    if not runtimes:
        return []
    now = runtimes[0].ledger.clock()
    today = now.astimezone(BEIJING).date()
    last = today.year - 1
    report = []
    tenancies = {}
    for runtime in runtimes:
        code = runtime.tenant.code
        if runtime.ledger._find(Campaign.create_id(code, QC, last), Campaign) is not None:
            report.append(f"{code}: {last} QC season already there")
            continue
        tenancies[code] = Tenancy(
            runtime.tenant,
            runtime.ledger,
            population(runtime.tenant, LAST_YEAR_APPLICANTS, SEED),
            random.Random(f"demo/{code}/{last}"),
            paperwork=Paperwork(runtime.files),
        )
    if tenancies:
        _run_season(tenancies, last)
        report += [f"{code}: {last} QC season published" for code in tenancies]
    for runtime in runtimes:
        applicants = population(runtime.tenant, LAST_YEAR_APPLICANTS, SEED)
        report.append(open_season(runtime, now, applicants))
        report.append(demo_accounts(runtime, last, applicants[0]))
    return report


def _run_season(tenancies: dict[str, Tenancy], year: int) -> None:
    """Last year's season, on business time of last year, each step on its day."""
    time = SimulatedTime(beijing(year, 1, 1))
    season = Season(tenancies, time, year, QC, dict.fromkeys(tenancies, LAST_YEAR_APPLICANTS))
    with business_time([t.ledger for t in tenancies.values()], time):
        for when, _, step in season.steps():
            time.at(max(when, time.now))
            step()


def open_timeline(today: date) -> dict[Phase, Window]:
    """This year's calendar around today: registration and submission opened two weeks ago and
    close in six; the review follows."""
    midnight = beijing(today.year, today.month, today.day)

    def window(opens: int, closes: int) -> Window:
        return Window(midnight + opens * DAY, midnight + closes * DAY)

    return {
        Phase.REGISTRATION: window(-14, 42),
        Phase.SUBMISSION: window(-14, 42),
        Phase.RECOMMENDATION: window(-7, 56),
        Phase.FORMAL_REVIEW: window(56, 70),
        Phase.MATERIAL_REVIEW: window(70, 100),
        Phase.PRESENTATION: window(100, 110),
        Phase.GRADING: window(110, 120),
        Phase.PUBLIC_NOTICE: window(120, 127),
        Phase.PUBLICATION: window(127, 150),
    }


def open_season(runtime: TenantRuntime, now: datetime, applicants: list[Applicant]) -> str:
    """This year's QC campaign, open now: the first applicant units registered, each with one
    result submitted and one still a draft."""
    tenant, ledger, code = runtime.tenant, runtime.ledger, runtime.tenant.code
    today = now.astimezone(BEIJING).date()
    year = today.year
    if ledger._find(Campaign.create_id(code, QC, year), Campaign) is not None:
        return f"{code}: {year} QC season already there"
    secretariat = Actor(f"{code}-demo-secretariat", Role.SECRETARIAT)
    contact = tenant.contact
    campaign = ledger.open_campaign(
        programme=QC,
        year=year,
        title=f"{year}年{tenant.short_name_zh}{tenant.programmes[QC].name_zh}",
        document_number=f"{tenant.short_name_zh}〔{year}〕8号",
        theme="全员参与 持续改进",
        co_organisers=list(tenant.co_organisers),
        contact=Contact(
            contact.person,
            contact.phone,
            contact.department,
            contact.email,
            contact.address,
            contact.postcode,
        ),
        period_start=date(year - 1, 1, 1),
        period_end=date(year - 1, 12, 31),
        rules=season_world.rules(tenant, QC),
        timeline=open_timeline(today),
        actor=secretariat,
        idempotency_key=f"demo:{code}:{QC}:{year}",
    ).aggregate
    grades = {g.code for g in tenant.programmes[QC].grades}
    ledger.plan_review(campaign.id, season_world.review_plan(tenant, QC), grades, secretariat)
    rng = random.Random(f"demo/{code}/{year}")
    paperwork = Paperwork(runtime.files)
    for applicant in applicants[:OPEN_APPLICANTS]:
        actor = Actor(applicant.account, Role.APPLICANT_UNIT)
        ledger.register_for_campaign(
            campaign.id,
            applicant.credit_code,
            season_world.registration_form(applicant, rng),
            actor,
        )
        for k, kind in enumerate((TopicType.PROBLEM_SOLVING, TopicType.INNOVATIVE)):
            submission, _ = ledger.draft_submission(
                campaign_id=campaign.id,
                credit_code=applicant.credit_code,
                applicant=applicant.block,
                recommending_unit=applicant.unit,
                form=season_forms.qc_form(applicant, kind, rng),
                actor=actor,
                idempotency_key=f"demo-{year}-{k}",
            )
            paper = partial(Paper.of, submission.form, submission.applicant)
            for attachment in REQUIRED_ATTACHMENTS[QC]:
                paperwork.attach(ledger, submission.id, attachment, rng, actor, paper)
            if k == 0:
                ledger.submit_submission(submission.id, actor)
    return f"{code}: {year} QC season open, {OPEN_APPLICANTS} units filing"


def demo_accounts(runtime: TenantRuntime, last: int, applicant: Applicant) -> str:
    """An active account per role of the demo, without a password: the secretariat, the first
    applicant unit (verified: granted by the operator), its recommending unit, last year's first
    reviewer and an auditor."""
    ledger, code = runtime.ledger, runtime.tenant.code
    scopes: dict[Role, str | None] = {
        Role.APPLICANT_UNIT: applicant.credit_code,
        Role.RECOMMENDING_UNIT: applicant.unit,
        Role.REVIEWER: f"{code.upper()}-QC-{last}-0001",
    }
    made = []
    for role in DEMO_ROLES:
        login = demo_login(code, role)
        if ledger.find_account(login) is not None:
            continue
        ledger.register_account(
            login=login,
            name=f"演示{ROLE_NAMES_ZH[role]}",
            password=None,
            status=AccountStatus.ACTIVE,
            grants=[Grant(role, scopes.get(role))],
            actor=DEMO_ACTOR,
        )
        made.append(role.value)
    return f"{code}: demo accounts {'made: ' + ', '.join(made) if made else 'already there'}"


DEMO_LINK = "demo_sign_in"
"""The one-time tokens' purpose, followed by the start's nonce: a link of an earlier start (whose
nonce the running app does not hold) is refused."""
DEMO_LINK_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class DemoLink:
    tenant: str
    role: Role
    url: str


def link_purpose(nonce: str) -> str:
    return f"{DEMO_LINK}:{nonce}"


def issue_demo_links(platform: Platform, nonce: str, public_url: str) -> list[DemoLink]:
    """A one-time sign-in link per demo role of saq and sdaq, good for the start holding
    `nonce` only (the tokens are stored hashed, like every other)."""
    links = []
    for code in LINK_TENANTS:
        runtime = platform.get(code)
        if runtime is None:
            continue
        store = AuthStore(open_view_database(runtime.location, "auth"))
        try:
            now = runtime.ledger.clock()
            for role in DEMO_ROLES:
                account = runtime.ledger.find_account(demo_login(code, role))
                if account is None:
                    continue
                token = store.issue_token(link_purpose(nonce), account.id, now, DEMO_LINK_LIFETIME)
                url = f"{public_url.rstrip('/')}/{code}/demo-sign-in/{token}"
                links.append(DemoLink(code, role, url))
        finally:
            store.db.close()
    return links
