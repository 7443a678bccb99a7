"""The server-side SVG chart: coordinates, labels, and its text alternative."""

from django.template.loader import render_to_string

from ledger.web.charts import HEIGHT, TOP, WIDTH, axis_label, cumulative_chart


def test_empty_series_says_so():
    chart = cumulative_chart([], "USD", title="Nothing")
    assert chart.empty
    html = render_to_string("web/_chart.html", {"chart": chart})
    assert "No ledger activity yet." in html
    assert "<svg" not in html


def test_points_scale_to_a_round_top_and_stay_inside_the_plot():
    series = [("2026-01", 10000, 0), ("2026-02", 45000, 20000), ("2026-03", 45000, 45000)]
    chart = cumulative_chart(series, "USD", title="Valued and paid", dom_id="c1")
    # The top of the axis is the next round number above $450.00: $500.00.
    assert chart.y_ticks[-1][1] == "$500.00"
    assert chart.y_ticks[0][1] == "$0.00"
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
    assert axis_label(2_000_000, "USD") == "$20K"
    assert axis_label(150_000_000, "JPY") == "¥150M"
    assert axis_label(50_000, "USD") == "$500.00"
    assert axis_label(500, "JPY") == "¥500"
