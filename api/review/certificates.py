"""Certificates of published review results: the 荣誉证书 as PDF (the public verification page is
the portal's, api/portal/public.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

CJK_FONT = "STSong-Light"
# The code and URL are drawn in a standard font so they stay plain ASCII in the PDF (searchable,
# copyable, and what the tests look for); the CID font would encode them as UCS-2.
LATIN_FONT = "Helvetica"
PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 72.0  # 1 inch: inside the double border with room to spare
RED = colors.HexColor("#b22222")


@dataclass(frozen=True)
class CertificateText:
    code: str  # verification code, e.g. "SAQ-7K3M-Q9XD-2HPA"
    association: str  # issuing association's full name, e.g. "上海市质量协会"
    unit_name: str  # the applicant unit's full name as filed
    group_name: str  # the QC group's (or team's) full name as filed
    topic: str  # the result's topic (课题名称); for a team, the team name again
    grade: str  # grade name in Chinese, e.g. "标杆级"
    campaign: str  # campaign title, e.g. "2024年上海市质量管理小组活动成果交流"
    issued_on: date  # date of publication (Beijing)
    verify_url: str  # full URL of the public verification page for this code
    sample: bool = False  # a rehearsal's (演练): marked 样本 across the page, not verifiable


def chinese_date(day: date) -> str:
    """2024年5月20日: no zero padding, as dates are written on Chinese certificates."""
    return f"{day.year}年{day.month}月{day.day}日"


@cache
def cjk_font() -> str:
    # Adobe's built-in CID font: nothing to ship or embed; registered on first use, not at import.
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _body(cert: CertificateText, size: float) -> list[Paragraph]:
    style = ParagraphStyle(
        "certificate",
        fontName=cjk_font(),
        fontSize=size,
        leading=size * 1.8,
        wordWrap="CJK",  # Chinese has no spaces: break between any two characters
    )
    body = ParagraphStyle("certificate-body", parent=style, firstLineIndent=2 * size)

    # Paragraph reads a little markup, so names with < or & must not be taken for tags.
    def text(value: str) -> str:
        return escape(value, quote=False)

    return [
        Paragraph(f"{text(cert.unit_name)} {text(cert.group_name)}：", style),
        Paragraph(
            f"你单位（小组）的成果《{text(cert.topic)}》在{text(cert.campaign)}中被评为 "
            f"{text(cert.grade)}。特发此证，以资鼓励。",
            body,
        ),
    ]


def _fit_body(cert: CertificateText, width: float, height: float) -> list[Paragraph]:
    """The body at the largest size that fits the box: long names as filed shrink the text rather
    than run over the signature."""
    for size in (22.0, 20.0, 18.0, 16.0, 14.0, 12.0, 11.0, 10.0, 9.0):
        paragraphs = _body(cert, size)
        if sum(p.wrap(width, height)[1] + size for p in paragraphs) <= height:
            return paragraphs
    return _body(cert, 8.0)


SAMPLE_NOTE = "演练样本：不作为荣誉证书，不可查验"  # no middle dot: STSong-Light lacks it


def _mark_sample(canvas: Canvas, font: str) -> None:
    """样本 across the page, over the text but light enough to read it, and a line saying why."""
    canvas.saveState()
    canvas.setFillColor(RED, alpha=0.18)
    canvas.setFont(font, 150)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2 - 40)
    canvas.rotate(20)
    canvas.drawCentredString(0, 0, "样本", charSpace=40)
    canvas.restoreState()
    canvas.setFillColor(RED)
    canvas.setFont(font, 14)
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - MARGIN - 76, SAMPLE_NOTE)


def render_pdf(cert: CertificateText) -> bytes:
    """The certificate as one A4 landscape PDF page."""
    buffer = io.BytesIO()
    # invariant: no creation time or random id, so one certificate always gives the same bytes;
    # no page compression, so the code and URL can be found in the file.
    canvas = Canvas(
        buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=0, invariant=1, lang="zh-CN"
    )
    canvas.setTitle(f"荣誉证书（样本）{cert.code}" if cert.sample else f"荣誉证书 {cert.code}")
    canvas.setAuthor(cert.association)
    canvas.setSubject(f"{cert.campaign} {cert.grade}")

    canvas.setStrokeColor(RED)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, PAGE_WIDTH - 48, PAGE_HEIGHT - 48)
    canvas.setLineWidth(1)
    canvas.rect(32, 32, PAGE_WIDTH - 64, PAGE_HEIGHT - 64)

    font = cjk_font()
    canvas.setFillColor(RED)
    canvas.setFont(font, 48)
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - MARGIN - 48, "荣誉证书", charSpace=16)

    # Between the title and the signature block.
    top, bottom = PAGE_HEIGHT - MARGIN - 96, MARGIN + 96
    width = PAGE_WIDTH - 2 * MARGIN - 24
    paragraphs = _fit_body(cert, width, top - bottom)
    y = top
    for paragraph in paragraphs:
        _, height = paragraph.wrap(width, top - bottom)
        paragraph.drawOn(canvas, MARGIN + 12, y - height)
        y -= height + paragraph.style.fontSize

    if cert.sample:
        _mark_sample(canvas, font)

    canvas.setFillColor(colors.black)
    canvas.setFont(font, 18)
    right = PAGE_WIDTH - MARGIN - 12
    canvas.drawRightString(right, MARGIN + 40, cert.association)
    canvas.drawRightString(right, MARGIN + 14, chinese_date(cert.issued_on))

    canvas.setFont(LATIN_FONT, 10)
    left = MARGIN - 12
    canvas.drawString(left, MARGIN + 14, cert.code)
    canvas.drawString(left, MARGIN, cert.verify_url)
    url_width = pdfmetrics.stringWidth(cert.verify_url, LATIN_FONT, 10)
    canvas.linkURL(cert.verify_url, (left, MARGIN - 2, left + url_width, MARGIN + 10), relative=0)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
