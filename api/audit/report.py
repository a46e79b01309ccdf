"""The audit package as a printable PDF report (审计报告), A4, in Chinese: the summary, the
recomputation and its differences, the chain proof, and each history event by event."""

from __future__ import annotations

import io
import json
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from api.audit.schemas import PackageOut
from api.review.certificates import cjk_font

RECORDED_CHARS = 400
"""Of an event's recorded content printed in the report; the JSON package holds it whole."""
SUBJECTS = {"submission": "申报成果", "campaign": "活动"}


def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    base = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=6),
        "h": ParagraphStyle("h", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=10),
    }


def _table(rows: list[list[str]], widths: list[float], style: ParagraphStyle) -> LongTable:
    cells = [[Paragraph(escape(c), style) for c in row] for row in rows]
    table = LongTable(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_report(package: PackageOut) -> bytes:
    s = _styles()
    width = A4[0] - 30 * mm
    story: list[Flowable] = [
        Paragraph(escape(f"{package.tenant_name} 审计报告"), s["title"]),
        Paragraph(escape(f"对象：{SUBJECTS[package.subject]} {package.title}"), s["body"]),
        Paragraph(escape(f"记录编号：{package.record_id}"), s["body"]),
        Paragraph(
            escape(
                f"生成时间：{package.made_at:%Y-%m-%d %H:%M:%S}（北京时间）"
                f"  生成人：{package.made_by}（{package.made_by_role}）"
            ),
            s["body"],
        ),
        Paragraph(escape(f"重算结论：{package.recomputation_note}"), s["body"]),
        Paragraph(escape(f"防篡改结论：{package.chain.summary}"), s["body"]),
        Spacer(1, 4 * mm),
    ]
    story += _recomputation(package, s, width)
    story += _chain(package, s, width)
    for history in package.histories:
        story.append(PageBreak())
        story.append(Paragraph(escape(f"历史记录：{history.title}"), s["h"]))
        rows = [["版本", "时间", "操作人（角色）", "事项", "记录内容"]]
        for step in history.steps:
            recorded = json.dumps(step.recorded, ensure_ascii=False)
            if len(recorded) > RECORDED_CHARS:
                recorded = recorded[:RECORDED_CHARS] + "……（全文见 JSON 审计包）"
            rows.append(
                [
                    str(step.version),
                    f"{step.at:%Y-%m-%d %H:%M:%S}",
                    f"{step.actor_id or '—'}（{step.actor_role_name or '—'}）",
                    step.what,
                    recorded,
                ]
            )
        story.append(_table(rows, [x * width for x in (0.06, 0.15, 0.2, 0.14, 0.45)], s["cell"]))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"审计报告 {package.title}",
        author=package.tenant_name,
    )
    doc.build(story)
    return buffer.getvalue()


def _recomputation(
    package: PackageOut, s: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    found = package.recomputation
    story: list[Flowable] = [Paragraph("一、评审结果重算", s["h"])]
    if found is None:
        return [*story, Paragraph(escape(package.recomputation_note), s["body"])]
    rows = [["轮次", "计分规则", "评分表", "计入的评分表", "重算的成果"]]
    rows += [
        [r.name_zh, r.rule, str(r.sheets), str(r.counted_sheets), str(r.results)]
        for r in found.rounds
    ]
    story.append(_table(rows, [width / 5] * 5, s["cell"]))
    if found.grading is not None:
        g = found.grading
        story.append(
            Paragraph(
                escape(
                    f"等级认定：{g.entries} 项成果，人工决定 {g.decisions} 项，"
                    f"{'已发布' if g.published else '未发布'}，证书 {g.certificates} 张"
                ),
                s["body"],
            )
        )
    story.append(Paragraph("人工决定（记录在案，不属重算范围）", s["h"]))
    if found.decisions:
        rows = [["时间", "成果", "决定", "理由", "操作人"]]
        rows += [
            [
                f"{d.at:%Y-%m-%d %H:%M}",
                d.serial,
                d.what,
                d.reason,
                f"{d.actor_id}（{d.actor_role_name}）",
            ]
            for d in found.decisions
        ]
        story.append(_table(rows, [x * width for x in (0.15, 0.15, 0.3, 0.25, 0.15)], s["cell"]))
    else:
        story.append(Paragraph("无", s["body"]))
    story.append(Paragraph("不一致之处", s["h"]))
    if found.differences:
        rows = [["环节", "成果", "项目", "记录值", "重算值", "说明"]]
        rows += [
            [d.stage, d.serial, d.item, d.recorded or "—", d.recomputed or "—", d.what]
            for d in found.differences
        ]
        widths = [x * width for x in (0.1, 0.14, 0.12, 0.1, 0.1, 0.44)]
        story.append(_table(rows, widths, s["cell"]))
    else:
        story.append(Paragraph("无：重算结果与记录及发布结果一致。", s["body"]))
    return story


def _chain(package: PackageOut, s: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    chain = package.chain
    latest = chain.latest_checkpoint
    story: list[Flowable] = [
        Paragraph("二、防篡改证明（哈希链）", s["h"]),
        Paragraph(escape(chain.summary), s["body"]),
        Paragraph(
            escape(
                f"日志共 {chain.events} 条事件，链头位于第 {chain.head} 条，链值 {chain.head_link}"
            ),
            s["body"],
        ),
        Paragraph(
            escape(
                f"最近检查点：第 {latest.position} 条，{latest.made_at:%Y-%m-%d %H:%M:%S}，"
                f"链值 {latest.link}"
                if latest
                else "尚无检查点"
            ),
            s["body"],
        ),
        Paragraph(
            escape(
                "本报告所涉事件均在链上，未见改动"
                if chain.records_intact
                else "本报告所涉事件有不在链上或与链不符者，见下表与断链清单"
            ),
            s["body"],
        ),
    ]
    rows = [["记录编号", "版本", "日志位置", "链值（SHA-256）"]]
    rows += [
        [p.record_id, str(p.version), str(p.position), p.link or "（不在链上）"]
        for p in chain.links
    ]
    story.append(_table(rows, [x * width for x in (0.3, 0.08, 0.1, 0.52)], s["cell"]))
    if chain.breaks:
        rows = [["日志位置", "类型", "说明"]]
        rows += [[str(b.position), b.kind, b.what] for b in chain.breaks]
        story.append(Paragraph("断链清单", s["h"]))
        story.append(_table(rows, [x * width for x in (0.12, 0.12, 0.76)], s["cell"]))
    return story
