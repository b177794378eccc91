"""Charts as inline SVG, drawn at build time: no script, no network, works from file://.

Colour means severity alone: a severity series or bar gets its class
(``io-c-sev0``...), every other bar the site's one neutral bar colour
(``io-bar``); both are defined in the site stylesheet for the light and dark
schemes, and text uses ``currentColor``. Axes are scaled to the data (whole
numbers for counts), every bar carries its value, the title stands above the
chart, and a chart drawn from few records says so. Every chart carries
``<title>``/``<desc>``, an ``aria-label`` and the same figures as a table for
screen readers and copying.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 480
_LEFT = 34
_RIGHT = 12
_TOP = 12
_BOTTOM = 34


@dataclass(frozen=True)
class Series:
    """One coloured series: a name, a CSS class suffix and one value per category."""

    name: str
    css: str
    values: Sequence[float]


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: label, value, CSS class suffix and the text printed after it."""

    label: str
    value: float
    css: str
    text: str


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


#: fewer records than this behind a chart: the chart says it is a small sample
SMALL_SAMPLE = 5


def nice_axis(value: float) -> tuple[float, float]:
    """``(top, step)`` of an axis for counts up to ``value``: round steps, at most five ticks, top >= value.

    A maximum of 1 gives an axis to 1 (not to 4); 7 gives 0-2-4-6-8; 230 gives 0-50-...-250.
    """
    if value <= 0:
        return 1.0, 1.0
    magnitude = 1.0
    while True:
        for factor in (1, 2, 5):
            step = magnitude * factor
            top = step * -(-value // step)
            if top / step <= 5:
                return top, step
        magnitude *= 10


def _ticks(top: float, step: float) -> list[float]:
    return [step * i for i in range(round(top / step) + 1)]


def bar_class(css: str) -> str:
    """The class of a bar or swatch: a severity's colour, or the neutral bar colour."""
    return f"io-c-{css}" if css.startswith("sev") else "io-bar"


def _svg_open(chart_id: str, title: str, desc: str, height: int) -> str:
    return (
        f'<svg class="io-chart__svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" aria-label="{_e(title)}: {_e(desc)}">'
        f'<title id="{chart_id}-t">{_e(title)}</title><desc id="{chart_id}-d">{_e(desc)}</desc>'
    )


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<details class="io-chart__data"><summary>{_e(caption)}: data table</summary>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _figure(chart_id: str, title: str, svg: str, table: str, legend: str = "", sample: int | None = None) -> Markup:
    note = ""
    if sample is not None and sample < SMALL_SAMPLE:
        note = f'<p class="io-chart__note">Small sample: {sample} record{"" if sample == 1 else "s"}, read with care.</p>'
    return Markup(
        f'<figure class="io-chart" id="{chart_id}"><figcaption>{_e(title)}</figcaption>{note}{svg}{legend}'
        f"{table}</figure>"
    )


def _legend(series: Sequence[Series]) -> str:
    items = "".join(
        f'<li><span class="io-swatch {bar_class(s.css)}" aria-hidden="true"></span>{_e(s.name)}</li>'
        for s in series
    )
    return f'<ul class="io-chart__legend">{items}</ul>'


def empty(chart_id: str, title: str, message: str) -> Markup:
    """A placeholder figure for a chart without data."""
    return Markup(
        f'<figure class="io-chart io-chart--empty" id="{chart_id}"><figcaption>{_e(title)}</figcaption>'
        f"<p>{_e(message)}</p></figure>"
    )


def stacked_columns(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    sample: int | None = None,
) -> Markup:
    """Vertical stacked columns, one per category (e.g. month), one segment per series."""
    if not categories or not series:
        return empty(chart_id, title, "No data yet.")
    height = 240
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top, step = nice_axis(max(totals))
    slot = plot_w / len(categories)
    bar_w = max(2.0, min(36.0, slot * 0.7))
    parts = [_svg_open(chart_id, title, desc, height), '<g class="io-axis">']
    for tick in _ticks(top, step):
        y = _TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line class="io-grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"></line>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_num(tick)}</text>'
        )
    label_every = max(1, (len(categories) + 5) // 6)
    for i, category in enumerate(categories):
        if i % label_every == 0:
            x = _LEFT + slot * i + slot / 2
            parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle">{_e(category)}</text>')
    parts.append("</g>")
    for i, category in enumerate(categories):
        x = _LEFT + slot * i + (slot - bar_w) / 2
        base = float(_TOP + plot_h)
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            base -= h
            parts.append(
                f'<rect class="{bar_class(s.css)}" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{_e(category)}, {_e(s.name)}: {_num(value)}{_e(unit)}</title></rect>"
            )
        if totals[i] > 0:
            parts.append(f'<text class="io-value" x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" '
                         f'text-anchor="middle">{_num(totals[i])}</text>')
    parts.append("</svg>")
    rows = [[c, *(_num(s.values[i]) for s in series), _num(totals[i])] for i, c in enumerate(categories)]
    table = _table(title, ["", *(s.name for s in series), "Total"], rows)
    return _figure(chart_id, title, "".join(parts), table, _legend(series), sample)


def horizontal_bars(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    maximum: float | None = None,
    header: Sequence[str] = ("", "Value"),
    sample: int | None = None,
) -> Markup:
    """One labelled horizontal bar per row, with its value printed after it.

    Bars are drawn to scale against ``maximum`` (100 for a percentage), or else
    against the largest value, which then fills the width.
    """
    if not bars:
        return empty(chart_id, title, "No data yet.")
    row_h = 28
    label_w = 104.0
    height = _TOP + row_h * len(bars) + 8
    plot_w = WIDTH - label_w - 112
    top = maximum if maximum is not None else max(b.value for b in bars)
    top = top or 1
    parts = [_svg_open(chart_id, title, desc, height), '<g class="io-axis">']
    for i, bar in enumerate(bars):
        y = _TOP + row_h * i
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{_e(bar.label)}</text>')
    parts.append("</g>")
    for i, bar in enumerate(bars):
        y = _TOP + row_h * i
        w = max(0.0, plot_w * min(bar.value, top) / top)
        parts.append(
            f'<rect class="io-track" x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 10}" rx="3"></rect>'
            f'<rect class="{bar_class(bar.css)}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" rx="3">'
            f"<title>{_e(bar.label)}: {_e(bar.text)}</title></rect>"
            f'<text class="io-value" x="{label_w + plot_w + 8}" y="{y + 17}">{_e(bar.text)}</text>'
        )
    parts.append("</svg>")
    table = _table(title, header, [[b.label, b.text] for b in bars])
    return _figure(chart_id, title, "".join(parts), table, sample=sample)
