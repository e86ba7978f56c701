"""Charts as inline SVG for the load-test report: a line chart, a dot plot and
grouped bars. Written here rather than taken from a chart library so the
report opens offline with no script at all; hovering a point shows its value
(an SVG <title>).

Every chart is an <svg class="chart" id=...> with a viewBox, so it scales to
the page's width; values are drawn on a linear axis, or a logarithmic one
when they span more than LOG_SPAN (cold starts: Tollgate's milliseconds
beside Python's hundreds).
"""

import math
from html import escape

WIDTH, HEIGHT = 640, 320
# The title's row, then the legend's, then the plot.
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 56, 46
LEGEND_Y = 38
LOG_SPAN = 20
GRID = "#e3e3e3"
INK = "#333"


class Scale:
    """Maps values in [lo, hi] onto [start, end] (pixels), linearly or by
    their logarithm, with the ticks to label."""

    def __init__(self, lo, hi, start, end, log=False, rounded=True):
        self.log = log and lo > 0
        if self.log:
            self.lo, self.hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
        else:
            nice_lo, nice_hi, self.step = nice_range(lo, hi)
            # An x axis spans its data exactly; a y axis ends on round numbers.
            self.lo, self.hi = (nice_lo, nice_hi) if rounded else (lo, hi)
        self.start, self.end = start, end

    def __call__(self, value):
        if self.log:
            value = max(value, self.lo)
            fraction = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            fraction = (value - self.lo) / ((self.hi - self.lo) or 1)
        return self.start + fraction * (self.end - self.start)

    def ticks(self):
        if self.log:
            ticks = []
            decade = self.lo
            while decade <= self.hi * 1.0001:
                ticks += [decade * m for m in (1, 2, 5) if decade * m <= self.hi * 1.0001]
                decade *= 10
            return ticks
        count = int(round((self.hi - self.lo) / self.step))
        return [self.lo + i * self.step for i in range(count + 1)]


def nice_range(lo, hi, ticks=5):
    """An axis from `lo` to `hi` widened to round numbers, and its tick step."""
    lo, hi = min(lo, 0), max(hi, lo + 1e-9)
    raw = (hi - lo) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def label(value):
    """A number as an axis or point label: no more digits than it needs."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def value_scale(values, log_allowed=True):
    """The y scale for these values: logarithmic when they span a lot."""
    positive = [v for v in values if v > 0] or [1]
    lo, hi = min(positive), max(positive)
    log = log_allowed and hi / lo > LOG_SPAN
    return Scale(lo if log else 0, hi, HEIGHT - BOTTOM, TOP, log=log)


def frame(chart_id, title, y, y_label, x_label):
    """The opening of a chart: title, y grid and labels, axis titles."""
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600" fill="{INK}">{escape(title)}</text>',
    ]
    for tick in y.ticks():
        py = y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" fill="{INK}">{label(tick)}</text>')
    parts.append(
        f'<text transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2:.0f}) rotate(-90)" text-anchor="middle" fill="{INK}">'
        f'{escape(y_label)}{" (log scale)" if y.log else ""}</text>'
    )
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" fill="{INK}">{escape(x_label)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" stroke="{INK}"/>')
    return parts


def legend(entries):
    """Swatches and names in a row under the title: (name, color, dashed)."""
    parts, x = [], LEFT
    for name, color, dashed in entries:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        parts.append(
            f'<g class="legend"><line x1="{x}" x2="{x + 18}" y1="{LEGEND_Y - 4}" y2="{LEGEND_Y - 4}" stroke="{color}" stroke-width="3"{dash}/>'
            f'<text x="{x + 22}" y="{LEGEND_Y}" fill="{INK}">{escape(name)}</text></g>'
        )
        x += 6.6 * len(name) + 40  # about a 12 px sans-serif's advance
    return parts


def x_ticks(x, lo, hi, whole=False):
    """Labels under a numeric x axis (`whole`: integers only)."""
    parts = []
    span_lo, _, step = nice_range(lo, hi, ticks=8)
    if whole:
        step = max(1, math.ceil(step))
    tick = max(span_lo, 0)
    while tick <= hi + 1e-9:
        if tick >= lo - 1e-9:
            px = x(tick)
            parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 4}" stroke="{INK}"/>')
            parts.append(f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="{INK}">{label(tick)}</text>')
        tick += step
    return parts


def line_chart(chart_id, title, series, x_label, y_label, marks=()):
    """Lines of (x, y) points. `series`: (name, color, points, dashed);
    `marks`: (x, text) drawn as labelled vertical lines (rotations)."""
    xs = [px for _, _, points, _ in series for px, _ in points] or [0, 1]
    ys = [py for _, _, points, _ in series for _, py in points]
    y = value_scale(ys, log_allowed=False)
    lo, hi = min(xs + [m for m, _ in marks]), max(xs + [m for m, _ in marks])
    x = Scale(lo, hi if hi > lo else lo + 1, LEFT, WIDTH - RIGHT, rounded=False)
    parts = frame(chart_id, title, y, y_label, x_label) + x_ticks(x, lo, hi)
    for at, text in marks:
        px = x(at)
        parts.append(
            f'<g class="mark"><line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#888" stroke-dasharray="2 3"/>'
            f'<text x="{px + 3:.1f}" y="{TOP + 10}" fill="#666" font-size="10">{escape(text)}</text></g>'
        )
    for name, color, points, dashed in series:
        if not points:
            continue
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in points)
        parts.append(
            f'<polyline class="series" data-name="{escape(name)}" points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        for px, py in points:
            parts.append(
                f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(name)} at {label(px)}: {label(py)}</title></circle>"
            )
    parts += legend([(name, color, dashed) for name, color, _, dashed in series])
    parts.append("</svg>")
    return "\n".join(parts)


def dot_chart(chart_id, title, series, x_label, y_label):
    """Every value as a dot at its position (1, 2, ...). `series`: (name, color, values)."""
    values = [v for _, _, vs in series for v in vs]
    y = value_scale(values)
    count = max((len(vs) for _, _, vs in series), default=1)
    x = Scale(0.5, count + 0.5, LEFT, WIDTH - RIGHT, rounded=False)
    parts = frame(chart_id, title, y, y_label, x_label) + x_ticks(x, 1, count, whole=True)
    for name, color, vs in series:
        for i, value in enumerate(vs, start=1):
            parts.append(
                f'<circle class="point" data-name="{escape(name)}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" '
                f'fill="{color}" fill-opacity="0.8"><title>{escape(name)} #{i}: {label(value)} ms</title></circle>'
            )
    parts += legend([(name, color, False) for name, color, _ in series])
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(chart_id, title, groups, series, y_label):
    """Grouped bars with their values on top. `groups`: the labels along x;
    `series`: (name, color, one value per group)."""
    values = [v for _, _, vs in series for v in vs]
    y = value_scale(values, log_allowed=False)
    slot = (WIDTH - RIGHT - LEFT) / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)
    parts = frame(chart_id, title, y, y_label, "")
    for g, group in enumerate(groups):
        left = LEFT + g * slot + slot * 0.1
        parts.append(f'<text x="{left + slot * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="{INK}">{escape(group)}</text>')
        for s, (name, color, vs) in enumerate(series):
            value = vs[g]
            top, base = y(value), y(0)
            px = left + s * bar
            parts.append(
                f'<rect class="bar" data-name="{escape(name)}" data-group="{escape(group)}" x="{px:.1f}" y="{top:.1f}" '
                f'width="{bar - 2:.1f}" height="{max(base - top, 0.5):.1f}" fill="{color}">'
                f"<title>{escape(name)} {escape(group)}: {label(value)} ms</title></rect>"
            )
            parts.append(f'<text x="{px + (bar - 2) / 2:.1f}" y="{top - 3:.1f}" text-anchor="middle" font-size="10" fill="{INK}">{label(value)}</text>')
    parts += legend([(name, color, False) for name, color, _ in series])
    parts.append("</svg>")
    return "\n".join(parts)
