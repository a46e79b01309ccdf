"""Certificates: the PDF is one readable page carrying its code and URL; the verification page
shows what was found and escapes everything it shows."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from api.certificates import CertificateText, chinese_date, render_pdf, verification_page

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


def test_page_for_a_found_certificate() -> None:
    page = verification_page(CERT.code, CERT)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert '<meta charset="utf-8">' in page
    assert "<title>证书查验</title>" in page
    assert "证书有效" in page
    assert "未找到" not in page
    for label in (
        "证书编号",
        "单位名称",
        "小组名称",
        "课题名称",
        "等级",
        "活动",
        "发布日期",
        "发证单位",
    ):
        assert f"<th>{label}</th>" in page
    for value in (CERT.code, CERT.unit_name, CERT.group_name, CERT.topic, CERT.grade):
        assert f"<td>{value}</td>" in page
    assert "<td>2024年5月20日</td>" in page
    assert "<td>上海市质量协会</td>" in page


def test_page_for_an_unknown_code() -> None:
    page = verification_page("SAQ-0000-0000-0000", None)
    assert "未找到编号为 SAQ-0000-0000-0000 的证书，请核对后重试" in page
    assert "证书有效" not in page
    assert "<table" not in page


@pytest.mark.parametrize("cert", [CERT, None])
def test_page_has_a_form_to_check_another_code(cert: CertificateText | None) -> None:
    page = verification_page(CERT.code, cert)
    assert '<form method="get" action="">' in page
    assert 'name="code"' in page
    # Self-contained: nothing loaded from elsewhere.
    assert "src=" not in page
    assert "<link" not in page


def test_page_escapes_values() -> None:
    hostile = replace(
        CERT,
        code=SCRIPT,
        unit_name=SCRIPT,
        group_name='"><img onerror=x>',
        topic=SCRIPT,
        association=SCRIPT,
    )
    page = verification_page(SCRIPT, hostile)
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img onerror=x&gt;" in page


def test_page_escapes_the_unknown_code() -> None:
    page = verification_page(f'{SCRIPT}" autofocus onfocus="x', None)
    assert "<script>" not in page
    assert '" autofocus' not in page
    assert "&lt;script&gt;" in page
