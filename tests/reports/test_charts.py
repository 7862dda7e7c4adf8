"""SVG charts: well-formed, accessible, escaped, and in step with their tables."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from reports.charts import PALETTE, bar_chart, line_chart, stacked_bar_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"quoted\""


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 640 360"
    return root


def shown(text: ET.Element) -> str:
    """The text a <text> element draws (its <title> child is a tooltip, not drawn)."""
    return (text.text or "") + "".join(child.tail or "" for child in text)


def texts(root: ET.Element) -> list[str]:
    return [shown(el) for el in root.iter(f"{NS}text")]


def contrast_with_white(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def test_bar_chart_has_title_description_and_the_numbers_in_its_table():
    chart = bar_chart("Cases received", [("Geneva", 12), ("Nairobi", 7.5), ("New York", 0)], unit="cases")

    root = parse(chart.svg)
    assert root.find(f"{NS}title").text == "Cases received"
    assert "cases" in root.find(f"{NS}desc").text
    labelled_by = root.get("aria-labelledby").split()
    assert {el.get("id") for el in root.iter() if el.get("id")} >= set(labelled_by)
    assert chart.table == [["", "cases"], ["Geneva", "12"], ["Nairobi", "7.5"], ["New York", "0"]]
    assert {"Geneva", "Nairobi", "New York", "12", "7.5", "0"} <= set(texts(root))


def test_hostile_labels_are_escaped_everywhere():
    chart = bar_chart(HOSTILE, [(HOSTILE, 3)], unit=HOSTILE, x_label=HOSTILE)
    stacked = stacked_bar_chart(HOSTILE, {HOSTILE: [(HOSTILE, 2)]}, unit=HOSTILE)
    line = line_chart(HOSTILE, {HOSTILE: [(HOSTILE, 2), ("b", "<5")]}, unit=HOSTILE)

    for svg in (chart.svg, stacked.svg, line.svg):
        assert "<script" not in svg
        root = parse(svg)
        assert root.find(f"{NS}title").text == HOSTILE
        assert not list(root.iter(f"{NS}script"))
        # Round-trips intact: the chart's title and the x label's tooltip at least.
        assert sum(t.text == HOSTILE for t in root.iter(f"{NS}title")) >= 2
    assert chart.table[0][0] == HOSTILE  # the table is plain data: the template escapes it


def test_empty_data_gives_a_chart_that_says_so():
    for chart in (bar_chart("Nothing", []), stacked_bar_chart("Nothing", {}), line_chart("Nothing", {})):
        root = parse(chart.svg)
        assert "No data" in texts(root)
        assert root.find(f"{NS}desc").text == "No data."
    assert bar_chart("Nothing", [], x_label="Office").table == [["Office", "Value"]]


def test_all_zeros_and_a_single_bar_are_drawn():
    zeros = parse(bar_chart("Zeros", [("a", 0), ("b", 0)]).svg)
    heights = [float(r.get("height")) for r in zeros.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert heights == [0.0, 0.0]

    one = parse(bar_chart("One", [("Only office", 42)]).svg)
    bars = [r for r in one.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(bars) == 1
    assert float(bars[0].get("height")) > 100  # 42 on a 0-50 axis fills most of the plot
    assert float(bars[0].get("width")) <= 80


def test_suppressed_values_are_hatched_with_their_mark_and_no_number():
    chart = bar_chart("Outcomes", [("Maintained", 12), ("Revised", "<5"), ("Withdrawn", "x")])

    root = parse(chart.svg)
    hatched = [r for r in root.iter(f"{NS}rect") if (r.get("fill") or "").startswith("url(#")]
    assert len(hatched) == 2
    assert {"<5", "x"} <= set(texts(root))
    assert chart.table[1:] == [["Maintained", "12"], ["Revised", "<5"], ["Withdrawn", "x"]]
    assert "suppressed" in root.find(f"{NS}desc").text
    pattern_ids = {p.get("id") for p in root.iter(f"{NS}pattern")}
    assert {r.get("fill")[5:-1] for r in hatched} <= pattern_ids


def test_many_bars_get_rotated_truncated_labels_with_the_full_label_in_a_title():
    data = [(f"Office of the Very Long Name number {k}", k) for k in range(40)]

    root = parse(bar_chart("Many", data).svg)
    labels = [t for t in root.iter(f"{NS}text") if t.find(f"{NS}title") is not None]
    assert len(labels) == 40
    for label, (full, _) in zip(labels, data, strict=True):
        assert "rotate(-45" in label.get("transform")
        assert label.find(f"{NS}title").text == full
        assert len(shown(label)) <= 14
        assert full.startswith(shown(label).removesuffix("\u2026"))
    # Rotated labels at 45° need only their line height apart; they are spaced a bar apart.
    xs = [float(t.get("x")) for t in labels]
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 12


def test_few_short_labels_stay_horizontal():
    root = parse(bar_chart("Few", [("A", 1), ("B", 2)]).svg)
    assert all(t.get("transform") is None for t in root.iter(f"{NS}text") if t.find(f"{NS}title") is not None)


def test_stacked_bars_have_one_segment_per_series_value_and_a_matching_table():
    series = {
        "Maintained": [("2024", 10), ("2025", 14)],
        "Revised": [("2024", 6), ("2025", "<5")],
    }
    chart = stacked_bar_chart("Outcomes by cycle", series, x_label="Cycle")

    root = parse(chart.svg)
    segments = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert [s.find(f"{NS}title").text for s in segments] == [
        "Maintained, 2024: 10",
        "Revised, 2024: 6",
        "Maintained, 2025: 14",
        "Revised, 2025: <5",
    ]
    assert chart.table == [["Cycle", "Maintained", "Revised"], ["2024", "10", "6"], ["2025", "14", "<5"]]
    assert {"Maintained", "Revised"} <= set(texts(root))  # the legend


def test_line_chart_breaks_at_suppressed_and_missing_points():
    series = {
        "Median days": [("Q1", 30), ("Q2", 28.5), ("Q3", "<5"), ("Q4", 20)],
        "P90 days": [("Q1", 60), ("Q2", 55)],
    }
    chart = line_chart("Days to decision", series, unit="days")

    root = parse(chart.svg)
    polylines = root.findall(f".//{NS}polyline")
    assert [len(p.get("points").split()) for p in polylines] == [2, 2]
    assert chart.table == [
        ["", "Median days", "P90 days"],
        ["Q1", "30", "60"],
        ["Q2", "28.5", "55"],
        ["Q3", "<5", ""],
        ["Q4", "20", ""],
    ]
    assert "<5" in texts(root)


@pytest.mark.parametrize("colour", PALETTE)
def test_colours_contrast_with_the_white_background(colour):
    assert contrast_with_white(colour) >= 4.5


def test_two_charts_on_one_page_do_not_share_ids():
    a = parse(bar_chart("A", [("x", "<5")]).svg)
    b = parse(bar_chart("B", [("x", "<5")]).svg)
    ids_a = {el.get("id") for el in a.iter() if el.get("id")}
    ids_b = {el.get("id") for el in b.iter() if el.get("id")}
    assert ids_a
    assert not ids_a & ids_b
