"""The generated seasons' attachments: metadata only (the benchmarks, hundreds of thousands of
events, no file written), or, given a tenant's file store (the demo), real small files kept in it
under their true SHA-256 and size, so every report, form and slides link of the demo opens.

Each PDF names its kind, the result's title, the applicant and the group, over a page or two of
generated prose (the evidence names the applicant only: one file for all its results); the video is one tiny real MP4 (`demo_video.mp4`, 2 s of a test pattern, H.264,
made once with `ffmpeg -f lavfi -i testsrc2=size=320x180:rate=10:duration=2 -c:v libx264
-profile:v baseline -pix_fmt yuv420p -preset veryslow -crf 35 -movflags +faststart
-map_metadata -1 -fflags +bitexact -flags:v +bitexact`), shared by every result (the store is
content-addressed: one file)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from uuid import UUID

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from aggregates.actor import Actor
from aggregates.ledger.application import AssociationLedger
from aggregates.submission import ATTACHMENT_NAMES_ZH, Attachment, AttachmentKind
from aggregates.submission_forms import Form, QcResultForm
from api.demo import season_forms as forms
from api.review.certificates import cjk_font
from tenants.files import LocalFileStore

VIDEO = Path(__file__).with_name("demo_video.mp4")
DEMO_NOTE = "演示材料：由 qcflow demo 生成，内容为虚构"
TITLES = {
    AttachmentKind.APPLICATION_FORM: "质量管理小组活动成果申报表",
    AttachmentKind.REPORT: "质量管理小组活动成果报告",
    AttachmentKind.SLIDES: "成果发表",
    AttachmentKind.EVIDENCE: "证实性材料",
}


@dataclass(frozen=True)
class Paper:
    """What a result's files say about it."""

    title: str
    applicant: str
    group: str

    @classmethod
    def of(cls, form: Form, applicant: Mapping[str, object]) -> Paper:
        unit = str(applicant.get("unit_name", ""))
        if isinstance(form, QcResultForm):
            return cls(form.topic_name, unit, form.group_name)
        return cls(form.team_name, unit, form.team_name)

    @classmethod
    def filed(cls, ledger: AssociationLedger, submission_id: UUID) -> Paper:
        submission = ledger.get_submission(submission_id)
        return cls.of(submission.form, submission.applicant)


@cache
def video() -> bytes:
    return VIDEO.read_bytes()


@cache
def _width(char: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(char, font, size))


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Chinese prose cut into lines as wide as `width` at most (there are no spaces to break
    at: any two characters may part)."""
    lines, line, used = [], "", 0.0
    for char in text:
        advance = _width(char, font, size)
        if used + advance > width:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += advance
    return [*lines, line] if line else lines


def _prose(
    canvas: Canvas, font: str, text: str, y: float, width: float, size: float = 10.5
) -> float:
    lines = _lines(text, font, size, width)
    block = canvas.beginText(72, y)
    block.setFont(font, size, size * 1.8)
    block.textLines(lines)
    canvas.drawText(block)
    return y - size * 1.8 * len(lines) - size


def _header(
    canvas: Canvas, font: str, kind: AttachmentKind, paper: Paper, page: tuple[float, float]
) -> float:
    page_width, page_height = page
    width = page_width - 144
    y = page_height - 80
    canvas.setFont(font, 18)
    canvas.drawCentredString(page_width / 2, y, TITLES[kind])
    y -= 36
    canvas.setFont(font, 12)
    fields = (
        ("成果名称", f"《{paper.title}》" if paper.title else ""),
        ("申报单位", paper.applicant),
        ("小组名称", paper.group),
    )
    for label, value in fields:
        for line in _lines(f"{label}：{value}", font, 12, width) if value else ():
            canvas.drawString(72, y, line)
            y -= 22
    return y - 8


def _footer(canvas: Canvas, font: str, number: str, page_width: float) -> None:
    canvas.setFont(font, 9)
    canvas.drawCentredString(
        page_width / 2, 40, f"{DEMO_NOTE}　材料编号 {number}" if number else DEMO_NOTE
    )


def render_pdf(kind: AttachmentKind, paper: Paper, number: str, seed: str) -> bytes:
    """The kind's document for one result: the application form and the evidence a page, the
    report and the slides two."""
    rng = random.Random(seed)
    font = cjk_font()
    buffer = io.BytesIO()
    size = landscape(A4) if kind is AttachmentKind.SLIDES else A4
    # invariant: no creation time or random id, so the same paper gives the same bytes
    canvas = Canvas(buffer, pagesize=size, invariant=1, pageCompression=0)
    canvas.setTitle(f"{paper.title} {ATTACHMENT_NAMES_ZH[kind]}")
    width = size[0] - 144
    pages = 2 if kind in (AttachmentKind.REPORT, AttachmentKind.SLIDES) else 1
    for page in range(pages):
        y = _header(canvas, font, kind, paper, size) if page == 0 else size[1] - 80
        if kind is AttachmentKind.APPLICATION_FORM:
            y = _prose(canvas, font, "成果简介：" + forms.text(rng, 300, 420), y, width)
            canvas.setFont(font, 12)
            canvas.drawString(size[0] - 240, max(y - 20, 80), "申报单位（盖章）")
        elif kind is AttachmentKind.SLIDES:
            _prose(canvas, font, forms.text(rng, 120, 200), y, width, size=16)
        else:
            _prose(canvas, font, forms.text(rng, 700, 1000), y, width)
        _footer(canvas, font, number, size[0])
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@cache
def evidence(applicant: str) -> bytes:
    """An applicant's evidence (证实性材料): one file for all its results (the store keeps
    identical content once), so the demo renders a third fewer documents."""
    return render_pdf(
        AttachmentKind.EVIDENCE, Paper("", applicant, ""), "", f"evidence/{applicant}"
    )


@dataclass(frozen=True)
class Paperwork:
    """Where a generated season's attachments go: `files` None records metadata only (sizes and
    SHA-256s made up, nothing written: the benchmarks); a store gets a real file for each."""

    files: LocalFileStore | None = None

    def attach(
        self,
        ledger: AssociationLedger,
        submission_id: UUID,
        kind: AttachmentKind,
        rng: random.Random,
        actor: Actor,
        paper: Callable[[], Paper],
    ) -> None:
        """One attachment added to the result; `paper` is asked only when a file is written.
        The made-up attachment is drawn either way, so both draw the same random numbers."""
        made_up = forms.attachment(kind, submission_id, rng)
        if self.files is None:
            ledger.add_attachment(submission_id, made_up, actor)
            return
        if kind is AttachmentKind.VIDEO:
            content, name = video(), f"{ATTACHMENT_NAMES_ZH[kind]}.mp4"
        elif kind is AttachmentKind.EVIDENCE:  # the unit's, the same for each of its results
            about = paper()
            content, name = evidence(about.applicant), f"{ATTACHMENT_NAMES_ZH[kind]}.pdf"
        else:
            about = paper()
            number = made_up.sha256[:8].upper()
            content = render_pdf(kind, about, number, f"{submission_id}/{kind}/{number}")
            name = f"{ATTACHMENT_NAMES_ZH[kind]}-{about.title}.pdf"
        received = self.files.hold(content)
        real = Attachment(kind, name, made_up.content_type, received.size, received.sha256)
        self.files.keep_recorded(
            received, partial(ledger.add_attachment, submission_id, real, actor)
        )
