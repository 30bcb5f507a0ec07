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
