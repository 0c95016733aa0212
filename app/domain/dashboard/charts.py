"""Charts as inline SVG built on the server: no chart library, no CDN (government intranets
cannot reach one; FAB's chart views load Google Charts from gstatic). Every text is escaped.

Inline SVG in HTML needs no xmlns. Sizes are in SVG user units; the ``viewBox`` lets the
browser scale the chart to its column.
"""
from markupsafe import Markup, escape

BAR_COLOR = "#337ab7"  # Bootstrap 3 primary, the theme FAB ships
TEXT_COLOR = "#333"
ROW_HEIGHT = 26
LABEL_WIDTH = 170
BAR_WIDTH = 300
VALUE_WIDTH = 90


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.0f}"
    return f"{value:,}"


def _svg(width, height, title, body) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg class="chart" role="img" aria-label="{label}"'
        f' viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px"'
        f' font-family="sans-serif" font-size="12"><title>{label}</title>{body}</svg>')


def hbar(rows, title, color=BAR_COLOR, formatter=_number) -> Markup:
    """Horizontal bars: ``rows`` is ``[(label, value)]``; bars are scaled to the largest."""
    rows = list(rows)
    top = max((float(value) for _label, value in rows), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(rows):
        y = i * ROW_HEIGHT
        width = round(BAR_WIDTH * float(value) / top, 1)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end" fill="{TEXT_COLOR}">'
            f'{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width}" height="{ROW_HEIGHT - 8}"'
            f' fill="{escape(color)}"><title>{escape(label)}: {escape(formatter(value))}</title>'
            f'</rect>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 17}" fill="{TEXT_COLOR}">'
            f'{escape(formatter(value))}</text>')
    height = max(len(rows), 1) * ROW_HEIGHT
    return _svg(LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, height, title, "".join(parts))


def funnel(stages, title, color=BAR_COLOR) -> Markup:
    """A centred funnel: ``stages`` is ``[(label, count)]`` in order; each bar also shows the
    share of the first stage that reached it."""
    stages = list(stages)
    first = stages[0][1] if stages else 0
    top = max((value for _label, value in stages), default=0) or 1
    centre = LABEL_WIDTH + BAR_WIDTH / 2
    parts = []
    for i, (label, value) in enumerate(stages):
        y = i * ROW_HEIGHT
        width = max(round(BAR_WIDTH * value / top, 1), 1)
        share = f" ({value / first:.0%})" if first and i else ""
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end" fill="{TEXT_COLOR}">'
            f'{escape(label)}</text>'
            f'<rect x="{centre - width / 2}" y="{y + 3}" width="{width}" height="{ROW_HEIGHT - 6}"'
            f' fill="{escape(color)}" opacity="{1 - i * 0.1:.1f}"/>'
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 17}" fill="{TEXT_COLOR}">'
            f'{escape(_number(value))}{escape(share)}</text>')
    height = max(len(stages), 1) * ROW_HEIGHT
    return _svg(LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, height, title, "".join(parts))
