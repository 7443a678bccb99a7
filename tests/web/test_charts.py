"""The server-side SVG chart: coordinates, labels, and its text alternative."""

from django.template.loader import render_to_string

from ledger.web.charts import HEIGHT, TOP, WIDTH, axis_labels, cumulative_chart


def test_empty_series_says_so():
    chart = cumulative_chart([], "USD", title="Nothing")
    assert chart.empty
    html = render_to_string("web/_chart.html", {"chart": chart})
    assert "No ledger activity yet." in html
    assert "<svg" not in html


def test_points_scale_to_a_round_top_and_stay_inside_the_plot():
    series = [("2026-01", 10000, 0), ("2026-02", 45000, 20000), ("2026-03", 45000, 45000)]
    chart = cumulative_chart(series, "USD", title="Valued and paid", dom_id="c1")
    # The top of the axis is the next round number above $450.00: $500, in steps of $100.
    assert [label for _y, label, _minor in chart.y_ticks] == [
        "$0",
        "$100",
        "$200",
        "$300",
        "$400",
        "$500",
    ]
    for _series, x, y in chart.dots:
        assert chart.plot_left <= x <= WIDTH
        assert TOP <= y <= HEIGHT - 40
    valued = [tuple(map(float, p.split(","))) for p in chart.valued_points.split()]
    assert valued[1][1] == valued[2][1] < valued[0][1]  # flat at $450, higher than $100
    assert "At the end: valued $450.00, paid $450.00." in chart.description


def test_rendered_chart_is_accessible_and_has_a_table():
    chart = cumulative_chart([("2026-05", 1250, 500)], "USD", title="T <b>", dom_id="c2")
    html = render_to_string("web/_chart.html", {"chart": chart})
    assert 'role="img"' in html and 'aria-labelledby="c2-title c2-desc"' in html
    assert '<title id="c2-title">T &lt;b&gt;</title>' in html
    assert '<desc id="c2-desc">' in html
    assert '<td class="num">$12.50</td><td class="num">$5.00</td>' in html
    assert " style=" not in html


def test_axis_labels_are_short_for_large_amounts():
    assert axis_labels([0, 1_000_000, 2_000_000], "USD") == ["$0", "$10K", "$20K"]
    assert axis_labels([0, 150_000_000], "JPY") == ["¥0", "¥150M"]
    assert axis_labels([0, 50_000], "USD") == ["$0", "$500"]
    assert axis_labels([0, 250, 500], "USD") == ["$0.00", "$2.50", "$5.00"]
    assert axis_labels([0, 500], "JPY") == ["¥0", "¥500"]


def test_one_axis_uses_one_label_format():
    """An axis reaching $2,000 labels $500 as "$500", never "$500.00" beside "$2K"."""
    chart = cumulative_chart([("2026-01", 50_000, 0), ("2026-02", 180_000, 0)], "USD", title="T")
    labels = [label for _y, label, _minor in chart.y_ticks]
    assert labels == ["$0", "$500", "$1K", "$1.5K", "$2K"]


def test_every_other_tick_label_is_minor_and_the_top_one_never_is():
    series = [(f"2026-{m:02}", m * 10_000, 0) for m in range(1, 13)]
    chart = cumulative_chart(series, "USD", title="T")
    assert [minor for _y, _label, minor in chart.y_ticks][-1] is False
    assert [minor for _x, _label, minor in chart.x_ticks] == [False, True] * 3
    html = render_to_string("web/_chart.html", {"chart": chart})
    assert html.count("chart-tick-minor") == 3 + sum(m for _y, _l, m in chart.y_ticks)


def test_legend_swatches_are_drawn_with_their_lines_classes():
    """The Paid line is dashed: its legend swatch is a piece of the same dashed line."""
    chart = cumulative_chart([("2026-05", 1250, 500)], "USD", title="T")
    html = render_to_string("web/_chart.html", {"chart": chart})
    legend = html[html.index("<figcaption>") : html.index("</figcaption>")]
    assert '<line class="chart-line chart-paid"' in legend
    assert '<line class="chart-line chart-valued"' in legend
