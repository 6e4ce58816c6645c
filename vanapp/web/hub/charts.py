"""Server-side SVG charts of the reach (pygal), inlined in the dashboard: no script, no remote
style or font, nothing from the internet. Labels arrive translated from the caller.

pygal builds the SVG with ElementTree, which escapes every label and title (Devanagari village
names, or a name with `<` in it) as XML text; `_offline` then removes the `<script>` pygal always
adds (tooltips we do not ship) and its comments with web addresses. That is why the result may
be marked safe for the template.
"""
import math

import pygal
from markupsafe import Markup
from pygal.style import Style

from ..headers import csp_nonce

# The app's own Devanagari first: the chart is inline SVG in the page, which carries the font.
FONT = ('"VanKit Devanagari", system-ui, "Noto Sans", "Noto Sans Devanagari", "Lohit Devanagari", "Nirmala UI", '
        'Mangal, sans-serif')
STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#1d1a24",
    foreground_strong="#1d1a24", foreground_subtle="#6b6478", opacity=".9", opacity_hover="1",
    colors=("#7b2cbf", "#e07a00", "#1b7f3b", "#1d4ed8", "#b3261e", "#6b6478"),
    font_family=FONT, label_font_family=FONT, major_label_font_family=FONT,
    value_font_family=FONT, title_font_family=FONT, legend_font_family=FONT,
    tooltip_font_family=FONT, no_data_font_family=FONT,
    label_font_size=13, major_label_font_size=13, value_font_size=13, title_font_size=16,
    legend_font_size=13)


def _offline(root):
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if callable(tag) or (isinstance(tag, str) and tag.rsplit("}", 1)[-1] == "script"):
                parent.remove(child)          # comments (callable tag) and scripts
    return _within_policy(root)


def _within_policy(root):
    """The page's Content-Security-Policy allows no inline style but by nonce (web/headers.py):
    pygal's <style> elements get this response's nonce, and its style="" attributes become the
    SVG presentation attributes they stand for (opacity: 0 -> opacity="0")."""
    nonce = csp_nonce()
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.rsplit("}", 1)[-1] == "style" and nonce:
            node.set("nonce", nonce)
        declarations = node.attrib.pop("style", None)
        for declaration in (declarations or "").split(";"):
            name, _sep, value = declaration.partition(":")
            if name.strip() and value.strip():
                node.set(name.strip(), value.strip())
    return root


def _chart(cls, title: str, no_data: str, **config):
    chart = cls(style=STYLE, js=[], disable_xml_declaration=True, title=title, no_data_text=no_data,
                print_values=True, truncate_label=40, width=640, height=config.pop("height", 320),
                margin=12, **config)
    return chart.add_xml_filter(_offline)


def _whole_ticks(top: float) -> list[int] | None:
    """Axis labels 0, step, 2*step... for counts: people and screenings come whole, so the
    axis never reads 0, 0, 1, 1 (pygal's own ticks are fractions)."""
    if top <= 0:
        return None
    step = next(b * 10 ** e for e in range(12) for b in (1, 2, 5) if top / (b * 10 ** e) <= 8)
    last = math.ceil(top / step) * step          # top, rounded up to a whole step
    return list(range(0, last + 1, step))


def _render(chart) -> Markup:
    return Markup(chart.render(is_unicode=True))


def _linked(values, links):
    """Bars that open the screenings behind them (an SVG link in the page: no script)."""
    if not links:
        return list(values)
    return [{"value": v, "xlink": {"href": href, "target": "_self"}} for v, href in zip(values, links)]


def bars(title: str, labels: list[str], values: list[float], no_data: str,
         percent: bool = False, horizontal: bool = False, links: list[str] | None = None) -> Markup:
    """One series of bars: label -> value (percentages drawn 0-100); `links`: where each bar leads."""
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    fmt = (lambda v: f"{v:.0f}%") if percent else (lambda v: f"{v:,.0f}")
    height = max(220, 60 + 38 * len(labels)) if horizontal else 320
    ticks = None if percent else _whole_ticks(max(values, default=0))
    chart = _chart(cls, title, no_data, show_legend=False, value_formatter=fmt, height=height,
                   range=(0, 100) if percent else ((0, ticks[-1]) if ticks else None))
    if ticks:
        chart.y_labels = ticks
    # pygal leaves long labels whole beside a horizontal bar, and the plot shrinks to nothing:
    # cut them here (the table under the chart, and the screenings behind a bar, say it whole)
    chart.x_labels = [_short(str(x), 30) if horizontal else str(x) for x in labels]
    if any(values):
        chart.add(title, _linked(values, links))
    return _render(chart)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def grouped(title: str, labels: list[str], series: list[tuple[str, list[float]]], no_data: str,
            percent: bool = False, link: str | None = None) -> Markup:
    """Several series side by side over the same labels (before/after a film); `link`: where
    every bar leads."""
    fmt = (lambda v: f"{v:.0f}%") if percent else (lambda v: f"{v:,.0f}")
    chart = _chart(pygal.Bar, title, no_data, show_legend=True, legend_at_bottom=True,
                   value_formatter=fmt, range=(0, 100) if percent else None)
    chart.x_labels = [str(x) for x in labels]
    if any(any(v) for _name, v in series):
        for name, values in series:
            chart.add(str(name), _linked(values, [link] * len(values) if link else None))
    return _render(chart)
