"""`qcflow demo` and `qcflow serve --demo` (issue 18 §5, a living demo): each provincial tenant
gets last year's QC season published (certificates that verify) and this year's open now (drafts
and submitted results), through the real commands; a second run changes nothing; the start prints
one-time sign-in links, which work once and only for that start; a start without --demo prints
none. The demo is built once per module and backend (through the command line, as `make run`)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import uvicorn
from eventsourcing.utils import get_topic
from litestar import Litestar
from litestar.testing import TestClient
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import api.cli
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.grading import Grading
from aggregates.ledger.application import AssociationLedger
from aggregates.submission import AttachmentKind, Submission
from aggregates.submission_forms import QcResultForm
from aggregates.submission_register import SubmissionRegister
from api.demo.seeds import DEMO_ROLES, LINK_TENANTS
from api.platform.security import SESSION_COOKIE
from projections.runner import Projection
from projections.service import PROJECTIONS
from projections.store import Stage
from tenants.files import MP4, PDF, Received, sniff
from tenants.runtime import Platform
from tenants.settings import Settings
from tenants.transcoder import LeanMapper
from tests.conftest import ADMIN_URL, _postgres_reachable

QC = Programme.QC_GROUP
PROVINCIAL = ("saq", "sdaq", "cmiqa")
LINK = re.compile(r"http://127\.0\.0\.1:8123/(\w+)/demo-sign-in/([\w-]+)")
"""The links name the port served (QCFLOW_PORT below), not the default 8000."""


@dataclass
class Started:
    """One `qcflow serve` run: what it printed, and the app it would have served."""

    output: str
    app: Litestar


def _start(env: dict[str, str], *argv: str) -> Started:
    """Run the command line with uvicorn.run replaced: the app it would serve is kept."""
    served: list[Litestar] = []
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("QCFLOW_DATABASE_URL", raising=False)
        if "QCFLOW_DATABASE_URL" in env:
            patch.setenv("QCFLOW_DATABASE_URL", env["QCFLOW_DATABASE_URL"])
        patch.setenv(api.cli.DEMO_START, "")  # undone afterwards, whatever the start sets
        patch.setattr(
            uvicorn,
            "run",
            lambda app, **kwargs: served.append(api.cli.served_app() if kwargs["factory"] else app),
        )
        patch.setattr(api.cli, "configure_logging", lambda *a: None)
        with contextlib.redirect_stdout(output):
            assert api.cli.main(list(argv)) == 0
    return Started(output.getvalue(), served[0] if served else None)  # type: ignore[arg-type]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    values = {
        "QCFLOW_DATA_DIR": str(tmp_path_factory.mktemp("demo") / "var"),
        "QCFLOW_PORT": "8123",
    }
    if request.param == "sqlite":
        yield values
        return
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("QCFLOW_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"qcflow_demo_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_conninfo(**{**conninfo_to_dict(ADMIN_URL), "dbname": name})
        yield {**values, "QCFLOW_DATABASE_URL": url, "QCFLOW_PG_POOL_SIZE": "2"}
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def demo(env: dict[str, str]) -> Started:
    """`qcflow serve --demo`: the demo built, the links printed, the app not served yet."""
    return _start(env, "serve", "--demo")


def _platform(env: dict[str, str]) -> Platform:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("QCFLOW_DATABASE_URL", raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        return Platform.from_settings(Settings.from_env())


def _links(output: str) -> list[tuple[str, str]]:
    return LINK.findall(output)


def test_each_provincial_tenant_has_last_years_season_published_with_certificates(
    demo: Started, env: dict[str, str]
) -> None:
    last = datetime.now(UTC).year - 1  # the demo's "today" is the platform's clock
    platform = _platform(env)
    try:
        certificates = {}
        for code in PROVINCIAL:
            ledger = platform.tenants[code].ledger
            campaign = ledger.get_campaign(Campaign.create_id(code, QC, last))
            assert campaign.status == "published", code
            grading = ledger._find(Grading.create_id(campaign.id), Grading)
            assert grading is not None and grading.certificates, code
            certificates[code] = list(grading.certificates.values())
    finally:
        platform.close()
    with TestClient(demo.app) as client:
        for code, codes in certificates.items():
            for certificate in codes[:3]:
                found = client.get(f"/api/v1/certificates/{certificate}")
                assert found.status_code == 200, found.text
                assert found.json()["valid"] is True, (code, found.json())


def test_each_provincial_tenant_has_a_season_open_now(demo: Started, env: dict[str, str]) -> None:
    now = datetime.now(UTC)
    platform = _platform(env)
    try:
        for code in PROVINCIAL:
            campaign = platform.tenants[code].ledger.get_campaign(
                Campaign.create_id(code, QC, now.astimezone().year)
            )
            for phase in (Phase.REGISTRATION, Phase.SUBMISSION):
                window = campaign.timeline[phase]
                assert window.opens_at is not None and window.closes_at is not None
                assert window.opens_at <= now < window.closes_at, (code, phase)
    finally:
        platform.close()


def _signed_in(client: TestClient[Any], tenant: str, token: str) -> int:
    """Follow a printed link in a browser without cookies; the status it answers."""
    client.cookies.clear()
    return client.get(f"/{tenant}/demo-sign-in/{token}", follow_redirects=False).status_code


def test_the_links_sign_in_each_role_once_and_the_applicant_sees_its_drafts(
    demo: Started,
) -> None:
    links = _links(demo.output)
    assert sorted({t for t, _ in links}) == sorted(LINK_TENANTS)
    assert len(links) == len(LINK_TENANTS) * len(DEMO_ROLES)
    with TestClient(demo.app) as client:
        for tenant, token in links:
            client.cookies.clear()
            answer = client.get(f"/{tenant}/demo-sign-in/{token}", follow_redirects=False)
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == f"/{tenant}/"
            assert SESSION_COOKIE in answer.cookies
            me = client.get(f"/api/v1/tenants/{tenant}/me")
            assert me.status_code == 200, me.text
            assert me.json()["login"].startswith("demo-")
            if "applicant" in me.json()["login"]:
                _sees_a_draft_and_a_submitted_result(client, tenant)
        for tenant, token in links:  # the second click of each
            assert _signed_in(client, tenant, token) == 404
        assert _signed_in(client, "saq", "not-a-token") == 404


def _sees_a_draft_and_a_submitted_result(client: TestClient[Any], tenant: str) -> None:
    year = datetime.now(UTC).astimezone().year
    campaign_id = Campaign.create_id(tenant, QC, year)
    deadline = time.monotonic() + 30
    while True:  # the list is a read model, brought up to date in the background
        listed = client.get(f"/api/v1/tenants/{tenant}/campaigns/{campaign_id}/submissions")
        assert listed.status_code == 200, listed.text
        statuses = sorted(item["status"] for item in listed.json()["items"])
        if statuses or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert statuses == ["draft", "submitted"], statuses


def _built(
    projection: Projection, ledger: AssociationLedger, to_event: Callable[[Any], Any]
) -> dict[str, list[tuple[Any, ...]]]:
    """The read model built from zero in a stage, from events made by `to_event`: every row."""
    with Stage() as stage:
        projection.create_tables(stage.tx)
        for n in ledger.recorder.select_notifications(1, 1_000_000, topics=projection.topics):
            projection.process(to_event(n), stage.tx, n.id)
        return {table: sorted(stage.rows(table), key=repr) for table, _ in stage.tables()}


def test_every_read_model_built_from_the_fields_it_reads_equals_one_built_from_whole_events(
    demo: Started, env: dict[str, str]
) -> None:
    """`Projection.reads` names every field its handlers read (a rebuild decodes only those):
    over the demo's seasons, which hold every event it names, nothing differs."""
    platform = _platform(env)
    try:
        met: set[str] = set()
        rows: dict[str, int] = {}
        for code, runtime in platform.tenants.items():
            ledger = runtime.ledger
            met |= {n.topic for n in ledger.recorder.select_notifications(1, 1_000_000)}
            for kind in PROJECTIONS:
                if not kind.reads:
                    continue
                mapper = ledger.mapper
                assert isinstance(mapper, LeanMapper)
                whole = _built(kind(), ledger, mapper.to_domain_event)
                assert _built(kind(), ledger, mapper.reading(kind.reads)) == whole, (code, kind)
                rows[kind.name] = rows.get(kind.name, 0) + sum(map(len, whole.values()))
    finally:
        platform.close()
    assert 0 not in rows.values(), rows
    named = {get_topic(event) for kind in PROJECTIONS for event in kind.reads}
    assert named - met == set()


def test_a_second_run_changes_nothing(demo: Started, env: dict[str, str]) -> None:
    def heads() -> dict[str, int]:
        platform = _platform(env)
        try:
            return {
                code: runtime.ledger.recorder.max_notification_id() or 0
                for code, runtime in platform.tenants.items()
            }
        finally:
            platform.close()

    before = heads()
    again = _start(env, "demo")
    assert heads() == before
    assert "demo-sign-in" not in again.output


def test_links_of_an_earlier_start_stop_working_and_a_plain_start_prints_none(
    demo: Started, env: dict[str, str]
) -> None:
    restarted = _start(env, "serve", "--demo")
    plain = _start(env, "serve")
    assert "demo-sign-in" not in plain.output
    unused = _links(restarted.output)
    with TestClient(plain.app) as client:  # no demo start: its route knows no link
        tenant, token = unused[0]
        assert _signed_in(client, tenant, token) == 404
    earlier = _links(_start(env, "serve", "--demo").output)
    with TestClient(restarted.app) as client:  # a later start made new links: these are void
        assert _signed_in(client, *earlier[0]) == 404
        assert _signed_in(client, *unused[1]) == 303


NAMED = (AttachmentKind.APPLICATION_FORM, AttachmentKind.REPORT, AttachmentKind.SLIDES)
"""The kinds whose file names (and pages) name the result; the evidence is the unit's."""


def _filed(platform: Platform, code: str) -> list[Submission]:
    """Every result in the registers of the tenant's two demo seasons (last year's, this year's)."""
    ledger, year = platform.tenants[code].ledger, datetime.now(UTC).astimezone().year
    found = []
    for campaign_year in (year - 1, year):
        cid = Campaign.create_id(code, QC, campaign_year)
        register = ledger._find(SubmissionRegister.create_id(cid), SubmissionRegister)
        assert register is not None, (code, campaign_year)
        found += [ledger.get_submission(uuid.UUID(key)) for key in register.entries]
    return found


def test_the_demos_attachments_are_real_files_in_the_tenants_store(
    demo: Started, env: dict[str, str]
) -> None:
    """Each attachment the demo records is a file in the tenant's store with its SHA-256 and size,
    of the type it is recorded as (by the platform's own content check); each report and form
    names its own result."""
    platform = _platform(env)
    try:
        kinds: set[AttachmentKind] = set()
        for code in PROVINCIAL:
            files = platform.tenants[code].files
            submissions = _filed(platform, code)
            assert len(submissions) > 10, code
            for submission in submissions:
                assert submission.attachments, submission.id
                for attachment in submission.attachments:
                    kinds.add(attachment.kind)
                    content = files.path(attachment.sha256).read_bytes()
                    assert hashlib.sha256(content).hexdigest() == attachment.sha256
                    assert len(content) == attachment.size
                    received = Received(files.path(attachment.sha256), "", 0, content[:4096])
                    assert sniff(received) == attachment.content_type
                    assert attachment.content_type == (
                        MP4 if attachment.kind is AttachmentKind.VIDEO else PDF
                    )
                    if attachment.kind in NAMED:
                        assert isinstance(submission.form, QcResultForm)
                        assert submission.form.topic_name in attachment.name
        assert kinds == set(AttachmentKind)
    finally:
        platform.close()


def test_a_demo_report_downloads_as_pdf(env: dict[str, str]) -> None:
    started = _start(env, "serve", "--demo")  # links of its own: the module's are spent above
    platform = _platform(env)
    try:
        submission = _filed(platform, "saq")[0]
    finally:
        platform.close()
    report = next(a for a in submission.attachments if a.kind is AttachmentKind.REPORT)
    token = next(t for tenant, t in _links(started.output) if tenant == "saq")  # the secretariat
    with TestClient(started.app) as client:
        assert _signed_in(client, "saq", token) == 303
        answer = client.get(
            f"/api/v1/tenants/saq/submissions/{submission.id}/attachments/{report.sha256}"
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert hashlib.sha256(answer.content).hexdigest() == report.sha256
