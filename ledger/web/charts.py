"""Server-side SVG charts: cumulative valued work against what was paid, by month.

The chart is computed here (coordinates in a fixed viewBox) and drawn by the template
`web/_chart.html`, so every text in it is escaped by the template engine. Colours come from
CSS classes in static/css/app.css (light and dark), never from inline styles.
"""

from dataclasses import dataclass, field

from babel.numbers import format_compact_currency, format_currency

from ledger.money import display, to_decimal

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 88, 24, 16, 40  # plot margins inside the viewBox
MAX_X_LABELS = 6


@dataclass
class Row:
    month: str
    valued_minor: int
    paid_minor: int
    valued: str
    paid: str


@dataclass
class Chart:
    title: str
    description: str
    currency: str
    rows: list[Row]
    dom_id: str = "chart"
    width: int = WIDTH
    height: int = HEIGHT
    valued_points: str = ""
    paid_points: str = ""
    dots: list[tuple[str, float, float]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not self.rows


MAX_Y_INTERVALS = 5  # at most 6 y ticks: 0 and up to 5 equal round steps


def _nice_step(value: int) -> int:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten, in minor units) of which
    at most `MAX_Y_INTERVALS` reach `value`. Round steps keep every tick label short."""
    need = max(1, -(-value // MAX_Y_INTERVALS))
    power = 1
    while True:
        for step in (1, 2, 2.5, 5):
            candidate = step * power
            if candidate >= need and candidate == int(candidate):
                return int(candidate)
        power *= 10


def axis_labels(ticks: list[int], currency: str) -> list[str]:
    """Tick labels in ONE format for the whole axis: compact ("$0", "$500", "$1.5K") when the
    axis reaches a thousand major units, whole units ("$250") when every tick is whole, else
    the currency's exact digits ("$2.50"). Mixing "$2K" with "$500.00" on one axis misleads."""
    majors = [to_decimal(t, currency) for t in ticks]
    if max(majors) >= 1000:
        return [
            format_compact_currency(m, currency, locale="en_US", fraction_digits=1) for m in majors
        ]
    if all(m == m.to_integral_value() for m in majors):
        return [
            format_currency(m, currency, format="¤#,##0", locale="en_US", currency_digits=False)
            for m in majors
        ]
    return [display(t, currency) for t in ticks]


def cumulative_chart(series, currency: str, *, title: str, dom_id: str = "chart") -> Chart:
    """Build the chart of `queries.monthly_series` rows (month, valued, paid; cumulative)."""
    rows = [
        Row(month, valued, paid, display(valued, currency), display(paid, currency))
        for month, valued, paid in series
    ]
    if rows:
        last = rows[-1]
        description = (
            f"Cumulative value of accepted work and payments by month, {rows[0].month} to "
            f"{last.month}. At the end: valued {last.valued}, paid {last.paid}."
        )
    else:
        description = "No ledger activity yet."
    chart = Chart(title=title, description=description, currency=currency, rows=rows, dom_id=dom_id)
    if not rows:
        return chart

    highest = max(max(r.valued_minor, r.paid_minor) for r in rows)
    step_minor = _nice_step(highest)
    intervals = max(1, -(-highest // step_minor))
    top = step_minor * intervals
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = len(rows)

    def x(i: int) -> float:
        return round(LEFT + (plot_w * (i + 0.5) / n), 1)

    def y(minor: int) -> float:
        return round(TOP + plot_h - plot_h * max(minor, 0) / top, 1)

    chart.valued_points = " ".join(f"{x(i)},{y(r.valued_minor)}" for i, r in enumerate(rows))
    chart.paid_points = " ".join(f"{x(i)},{y(r.paid_minor)}" for i, r in enumerate(rows))
    for i, r in enumerate(rows):
        chart.dots.append(("valued", x(i), y(r.valued_minor)))
        chart.dots.append(("paid", x(i), y(r.paid_minor)))
    # Every other label is "minor": hidden on narrow screens, where the SVG is scaled down and
    # the labels are drawn larger to stay readable (static/css/app.css), so fewer fit. The top
    # label is never minor.
    values = [step_minor * k for k in range(intervals + 1)]
    labels = axis_labels(values, currency)
    chart.y_ticks = [
        (y(v), label, (intervals - k) % 2 == 1)
        for k, (v, label) in enumerate(zip(values, labels, strict=True))
    ]
    step = max(1, -(-n // MAX_X_LABELS))
    chart.x_ticks = [(x(i), rows[i].month, j % 2 == 1) for j, i in enumerate(range(0, n, step))]
    return chart
