"""Server-side SVG charts: cumulative valued work against what was paid, by month.

The chart is computed here (coordinates in a fixed viewBox) and drawn by the template
`web/_chart.html`, so every text in it is escaped by the template engine. Colours come from
CSS classes in static/css/app.css (light and dark), never from inline styles.
"""

from dataclasses import dataclass, field

from babel.numbers import format_compact_currency

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


def axis_label(minor: int, currency: str) -> str:
    """Short tick labels ("$20K") for large amounts, exact ones below a thousand."""
    major = to_decimal(minor, currency)
    if major >= 1000:
        return format_compact_currency(major, currency, locale="en_US", fraction_digits=1)
    return display(minor, currency)


def _nice_ceiling(value: int) -> int:
    """A round number at least `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return int(step * power)
    return 10 * power


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

    top = _nice_ceiling(max(max(r.valued_minor, r.paid_minor) for r in rows))
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
    chart.y_ticks = [(y(top * k // 4), axis_label(top * k // 4, currency)) for k in range(5)]
    step = max(1, -(-n // MAX_X_LABELS))
    chart.x_ticks = [(x(i), rows[i].month) for i in range(0, n, step)]
    return chart
