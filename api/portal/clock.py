"""Time as people read it on the portal: Beijing time with its zone, deadlines with a countdown,
and a campaign's phases on a line with today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aggregates.campaign import Phase, Window
from api.portal import labels
from api.portal.i18n import Speaker

MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def written_day(day: date, speaker: Speaker) -> str:
    """2024年7月25日 (25 July 2024): no zero padding, as people write a date."""
    if speaker.english:
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def written(moment: datetime, zone: ZoneInfo, speaker: Speaker) -> str:
    """2024年7月25日 22:00 (25 July 2024 22:00), in the zone."""
    local = moment.astimezone(zone)
    return f"{written_day(local.date(), speaker)} {local:%H:%M}"


def zone_name(zone: ZoneInfo, speaker: Speaker) -> str:
    """The zone as it is said: 北京时间 (Beijing time) for China's zone, else its name."""
    if zone.key in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
        return speaker.gettext("北京时间")
    return zone.key


def span(delta: timedelta, speaker: Speaker) -> str:
    """2 天 3 小时; under a day, hours and minutes; under an hour, minutes."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    said = {
        "days": speaker.ngettext("%(num)d 天", "%(num)d 天", days) % {"num": days},
        "hours": speaker.ngettext("%(num)d 小时", "%(num)d 小时", hours) % {"num": hours},
        "minutes": speaker.ngettext("%(num)d 分钟", "%(num)d 分钟", minutes) % {"num": minutes},
    }
    if days:
        return f"{said['days']} {said['hours']}"
    return f"{said['hours']} {said['minutes']}" if hours else said["minutes"]


@dataclass(frozen=True)
class Countdown:
    """To the next deadline of a phase open now, or else to the next phase's opening."""

    phase: Phase
    moment: datetime
    closing: bool

    def text(self, now: datetime, speaker: Speaker) -> str:
        values = {
            "phase": labels.phase(speaker, self.phase),
            "span": span(self.moment - now, speaker),
        }
        if self.closing:
            return speaker.gettext("距%(phase)s截止还有 %(span)s") % values
        return speaker.gettext("距%(phase)s开始还有 %(span)s") % values


def countdown(timeline: dict[Phase, Window], now: datetime) -> Countdown | None:
    # Phases closing together name the deadline by the later of them: registering stays
    # possible while one submits, so the submission is what is due.
    order = list(Phase)
    closing = [(w.closes_at, -order.index(p), p) for p, w in timeline.items() if w.is_open(now)]
    if closing:
        moment, _, phase = min(closing)
        return Countdown(phase, moment, closing=True)
    opening = [
        (w.opens_at, p) for p, w in timeline.items() if w.opens_at is not None and w.opens_at > now
    ]
    if opening:
        moment, phase = min(opening)
        return Countdown(phase, moment, closing=False)
    return None


@dataclass(frozen=True)
class Bar:
    """One phase on the timeline drawing (x and width in thousandths of the drawing)."""

    phase: Phase
    label: str
    opens: str
    closes: str
    state: str
    """open, closed or upcoming"""
    x: int
    width: int
    y: int
    label_x: int
    anchor: str


@dataclass(frozen=True)
class Line:
    bars: list[Bar]
    today_x: int | None
    height: int


ROW = 44
WIDTH = 1000


def line(
    timeline: dict[Phase, Window], now: datetime, zone: ZoneInfo, speaker: Speaker
) -> Line | None:
    """The phases as bars on one time axis, with today's place on it (None if outside)."""
    if not timeline:
        return None
    starts = {p: w.opens_at or (w.closes_at - timedelta(days=1)) for p, w in timeline.items()}
    first = min(starts.values())
    last = max(w.closes_at for w in timeline.values())
    length = max((last - first).total_seconds(), 1.0)

    def x(moment: datetime) -> int:
        return round((moment - first).total_seconds() / length * WIDTH)

    bars = []
    for i, (p, w) in enumerate(timeline.items()):
        left, right = x(starts[p]), x(w.closes_at)
        state = "open" if w.is_open(now) else "closed" if w.closes_at <= now else "upcoming"
        anchor = "end" if left > WIDTH * 0.6 else "start"
        bars.append(
            Bar(
                phase=p,
                label=labels.phase(speaker, p),
                opens=written(w.opens_at, zone, speaker) if w.opens_at else "",
                closes=written(w.closes_at, zone, speaker),
                state=state,
                x=left,
                width=max(right - left, 6),
                y=i * ROW,
                label_x=right if anchor == "end" else left,
                anchor=anchor,
            )
        )
    today = x(now) if first <= now <= last else None
    return Line(bars, today, len(bars) * ROW + 8)
