"""Charts drawn on the server as inline SVG: no script, no inline style (the stylesheet colours
them by class), readable by a screen reader (`role="img"`, `<title>`, `<desc>`) and always
accompanied by the same numbers as a table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

WIDTH: Final = 360
ROW: Final = 42
LABEL_Y: Final = 14
BAR_Y: Final = 20
BAR_HEIGHT: Final = 16
VALUE_ROOM: Final = 56
"""Room to the right of the longest bar for its number."""


@dataclass(frozen=True)
class Bar:
    key: str
    """A CSS class suffix (`bar-error`), and the row's id in tests."""
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per row, each labelled above and with its number after it."""

    id: str
    title: str
    bars: tuple[Bar, ...]

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    def description(self, format_number: Callable[[int], str] = str) -> str:
        """'Errors: 2; warnings: 5; info: 0' — what the chart shows, in words."""
        return "; ".join(f"{bar.label}: {format_number(bar.value)}" for bar in self.bars)

    def svg(self, format_number: Callable[[int], str] = str) -> Markup:
        height = ROW * len(self.bars) + 4
        largest = max((bar.value for bar in self.bars), default=0)
        span = WIDTH - VALUE_ROOM
        title_id, desc_id = f"{self.id}-title", f"{self.id}-desc"
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(self.id)}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
            f'<title id="{escape(title_id)}">{escape(self.title)}</title>',
            f'<desc id="{escape(desc_id)}">{escape(self.description(format_number))}</desc>',
        ]
        for row, bar in enumerate(self.bars):
            top = row * ROW
            width = round(span * bar.value / largest) if largest else 0
            shown = escape(format_number(bar.value))
            parts += [
                f'<g class="row" data-key="{escape(bar.key)}" data-value="{bar.value}">',
                f'<text class="label" x="0" y="{top + LABEL_Y}">{escape(bar.label)}</text>',
                f'<rect class="track" x="0" y="{top + BAR_Y}" width="{span}" '
                f'height="{BAR_HEIGHT}" rx="3"/>',
                f'<rect class="bar bar-{escape(bar.key)}" x="0" y="{top + BAR_Y}" '
                f'width="{width}" height="{BAR_HEIGHT}" rx="3"/>',
                f'<text class="value" x="{width + 6}" y="{top + BAR_Y + BAR_HEIGHT - 3}">'
                f"{shown}</text>",
                "</g>",
            ]
        parts.append("</svg>")
        return Markup("".join(parts))


COLUMN_PLOT_HEIGHT: Final = 160
COLUMN_TOP: Final = 8
COLUMN_AXIS: Final = 40
"""Room left of the plot for the scale's numbers."""
COLUMN_WIDTH: Final = 9
COLUMN_GAP: Final = 14
"""Between two groups of columns."""
COLUMN_LABELS: Final = 34
"""Room under the plot for the groups' labels."""


@dataclass(frozen=True)
class Series:
    key: str
    """A CSS class suffix (`bar-given`), and each column's `data-series` in tests."""
    label: str


@dataclass(frozen=True)
class Group:
    key: str
    """The period (`2026-11-16`), each column's `data-group`."""
    label: str
    values: tuple[int, ...]
    """One number per series, in the chart's order."""


@dataclass(frozen=True)
class ColumnChart:
    """Groups of vertical columns over time (one group per period, one column per series),
    on a scale from zero with its largest number marked."""

    id: str
    title: str
    series: tuple[Series, ...]
    groups: tuple[Group, ...]

    def totals(self) -> tuple[int, ...]:
        return tuple(
            sum(group.values[index] for group in self.groups) for index in range(len(self.series))
        )

    def description(self, format_number: Callable[[int], str] = str) -> str:
        """'Given: 12; refused: 3; withdrawn: 1' — the totals over the chart's periods."""
        return "; ".join(
            f"{series.label}: {format_number(total)}"
            for series, total in zip(self.series, self.totals(), strict=True)
        )

    def svg(self, format_number: Callable[[int], str] = str) -> Markup:
        per_group = COLUMN_WIDTH * len(self.series) + COLUMN_GAP
        width = max(WIDTH, COLUMN_AXIS + per_group * len(self.groups) + COLUMN_GAP)
        base = COLUMN_TOP + COLUMN_PLOT_HEIGHT
        height = base + COLUMN_LABELS
        largest = max((value for group in self.groups for value in group.values), default=0)
        title_id, desc_id = f"{self.id}-title", f"{self.id}-desc"
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart column-chart" '
            f'id="{escape(self.id)}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
            f'<title id="{escape(title_id)}">{escape(self.title)}</title>',
            f'<desc id="{escape(desc_id)}">{escape(self.description(format_number))}</desc>',
            f'<line class="axis" x1="{COLUMN_AXIS - 2}" y1="{base}" x2="{width}" y2="{base}"/>',
            f'<text class="scale" x="{COLUMN_AXIS - 6}" y="{base}" text-anchor="end">'
            f"{escape(format_number(0))}</text>",
        ]
        if largest:
            parts += [
                f'<line class="grid" x1="{COLUMN_AXIS - 2}" y1="{COLUMN_TOP}" x2="{width}" '
                f'y2="{COLUMN_TOP}"/>',
                f'<text class="scale" x="{COLUMN_AXIS - 6}" y="{COLUMN_TOP + 4}" '
                f'text-anchor="end">{escape(format_number(largest))}</text>',
            ]
        for index, group in enumerate(self.groups):
            left = COLUMN_AXIS + COLUMN_GAP // 2 + index * per_group
            parts.append(f'<g class="group" data-group="{escape(group.key)}">')
            for position, (series, value) in enumerate(zip(self.series, group.values, strict=True)):
                tall = round(COLUMN_PLOT_HEIGHT * value / largest) if largest else 0
                parts.append(
                    f'<rect class="column bar-{escape(series.key)}" '
                    f'data-series="{escape(series.key)}" data-value="{value}" '
                    f'x="{left + position * COLUMN_WIDTH}" y="{base - tall}" '
                    f'width="{COLUMN_WIDTH - 1}" height="{tall}"/>'
                )
            middle = left + COLUMN_WIDTH * len(self.series) / 2
            parts += [
                f'<text class="tick" x="{middle:g}" y="{base + 14}" text-anchor="middle">'
                f"{escape(group.label)}</text>",
                "</g>",
            ]
        parts.append("</svg>")
        return Markup("".join(parts))
