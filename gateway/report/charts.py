"""Charts as inline SVG, drawn by matplotlib without pyplot (no global figure state, safe
in a server) and with the SVG backend only (no display, no GUI toolkit)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

#: The two channels' colours, the same in every chart.
COLOURS = ("#2f6db5", "#e08a2c", "#5a9e4b", "#9a4fb0", "#c0392b")

NO_METADATA: dict[str, str | None] = {"Creator": None, "Date": None, "Format": None, "Type": None}


def _svg(figure: Figure) -> str:
    FigureCanvasSVG(figure)
    out = io.StringIO()
    # No metadata: the same figures draw the same bytes, and the page names no other site.
    figure.savefig(out, format="svg", bbox_inches="tight", metadata=NO_METADATA)
    text = out.getvalue()
    # Inline in HTML: the XML declaration and DOCTYPE are for a standalone file.
    return text[text.index("<svg") :]


def bars(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
    horizontal: bool = False,
) -> str:
    """Grouped bars: one group per category, one bar per series."""
    height = max(2.8, 0.35 * len(categories) + 1.2) if horizontal else 3.2
    figure = Figure(figsize=(7.5, height))
    axes = figure.add_subplot()
    count = max(len(series), 1)
    width = 0.8 / count
    positions = list(range(len(categories)))
    for i, (name, values) in enumerate(series.items()):
        offset = [p - 0.4 + width * (i + 0.5) for p in positions]
        colour = COLOURS[i % len(COLOURS)]
        if horizontal:
            axes.barh(offset, list(values), height=width, label=name, color=colour)
        else:
            axes.bar(offset, list(values), width=width, label=name, color=colour)
    if horizontal:
        axes.set_yticks(positions, list(categories))
        axes.invert_yaxis()
        axes.set_xlabel(ylabel)
    else:
        axes.set_xticks(positions, list(categories), rotation=30 if len(categories) > 6 else 0)
        axes.set_ylabel(ylabel)
    axes.set_title(title)
    if len(series) > 1:
        axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def lines(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
) -> str:
    """One line per series over ordered categories (months)."""
    figure = Figure(figsize=(7.5, 3.2))
    axes = figure.add_subplot()
    for i, (name, values) in enumerate(series.items()):
        axes.plot(list(categories), list(values), marker="o", label=name, color=COLOURS[i % 5])
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if len(categories) > 6:
        axes.tick_params(axis="x", labelrotation=30)
    if len(series) > 1:
        axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
