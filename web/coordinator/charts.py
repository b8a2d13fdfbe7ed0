"""Bar charts as inline SVG, drawn on the server: no script, no external file.

:func:`bar_chart` is a pure function from (label, value) pairs to SVG markup. Every label and
the title go through ``markupsafe.escape``, so a state or form named ``<script>`` stays text.
The chart is an image with a ``<title>`` for its accessible name; the numbers themselves are
in the table the page shows beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart"]

ROW = 22
"""Height of one bar's row, in SVG user units."""
LABEL_WIDTH = 170
BAR_WIDTH = 300
VALUE_WIDTH = 60


def bar_chart(title: str, bars: Sequence[tuple[str, int]], *, chart_id: str) -> Markup:
    """A horizontal bar chart: one row per (label, value), bars scaled to the largest value.

    ``chart_id`` names the ``<title>`` element (``aria-labelledby``); it must be unique on the
    page and is escaped like everything else.
    """
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = max(1, len(bars)) * ROW + 8
    largest = max((value for _label, value in bars), default=0)
    title_id = f"{chart_id}-title"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' aria-labelledby="{escape(title_id)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
    ]
    for index, (label, value) in enumerate(bars):
        y = 4 + index * ROW
        length = round(BAR_WIDTH * value / largest) if largest else 0
        middle = y + ROW // 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{middle}" text-anchor="end"'
            f' dominant-baseline="middle">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 6}"'
            f' class="bar"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4}" y="{middle}"'
            f' dominant-baseline="middle">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
