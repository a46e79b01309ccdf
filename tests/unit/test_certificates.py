"""Certificates: the PDF is one readable page carrying its code and URL; the verification page
shows what was found and escapes everything it shows."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from api.review.certificates import CertificateText, chinese_date, render_pdf

CERT = CertificateText(
    code="SAQ-7K3M-Q9XD-2HPA",
    association="上海市质量协会",
    unit_name="上海某某机械制造有限公司",
    group_name="精益求精QC小组",
    topic="降低齿轮箱装配不良率",
    grade="标杆级",
    campaign="2024年上海市质量管理小组活动成果交流",
    issued_on=date(2024, 5, 20),
    verify_url="https://qc.example.cn/certificates/verify?code=SAQ-7K3M-Q9XD-2HPA",
)
SCRIPT = "<script>alert(1)</script>"


def pages(pdf: bytes) -> int:
    # A page object, not the /Pages tree node.
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_pdf_is_one_page_with_code_and_url() -> None:
    pdf = render_pdf(CERT)
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pages(pdf) == 1
    assert CERT.code.encode() in pdf
    assert CERT.verify_url.encode() in pdf


def test_pdf_uses_the_builtin_cjk_font_without_embedding_it() -> None:
    pdf = render_pdf(CERT)
    assert b"/STSong-Light" in pdf
    assert b"/FontFile" not in pdf


def test_pdf_is_deterministic() -> None:
    assert render_pdf(CERT) == render_pdf(CERT)


def test_pdf_differs_by_certificate() -> None:
    other = replace(CERT, code="SAQ-AAAA-BBBB-CCCC")
    assert render_pdf(other) != render_pdf(CERT)
    assert b"SAQ-AAAA-BBBB-CCCC" in render_pdf(other)


@pytest.mark.parametrize("long", ["质" * 300, "A" * 300, "Quality improvement " * 15])
def test_pdf_with_long_names_still_renders(long: str) -> None:
    pdf = render_pdf(replace(CERT, unit_name=long, topic=long, group_name=long[:100]))
    assert pdf.startswith(b"%PDF")
    assert pages(pdf) == 1
    assert CERT.code.encode() in pdf


def test_pdf_takes_markup_characters_in_names() -> None:
    pdf = render_pdf(replace(CERT, unit_name=f"A&B {SCRIPT}", topic="<b>x"))
    assert pages(pdf) == 1


def test_chinese_date() -> None:
    assert chinese_date(date(2024, 5, 20)) == "2024年5月20日"
    assert chinese_date(date(2024, 12, 1)) == "2024年12月1日"
