"""The pure parts of the statistics: ISO weeks from days, the SVG bar chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from engine.services.statistics import iso_weeks
from web.coordinator.charts import bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_iso_weeks_cross_the_year_boundary() -> None:
    weeks = iso_weeks([(date(2026, 12, 28), 2), (date(2027, 1, 4), 1)])
    assert [(w.label, w.count) for w in weeks] == [("2026-W53", 2), ("2027-W01", 1)]


def test_the_chart_is_xml_with_escaped_labels() -> None:
    svg = bar_chart('Per <state> & "more"', [("<script>alert(1)</script>", 3), ("a&b", 0)],
                    chart_id='x"y')
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == 'Per <state> & "more"'  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["<script>alert(1)</script>", "3", "a&b", "0"]
    assert "<script>" not in str(svg)
    widths = [int(r.get("width", "-1")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > 0 and widths[1] == 0
