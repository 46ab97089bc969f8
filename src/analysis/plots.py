"""Plot helpers in the seaborn style: ``plot_x(data, *, x=..., ax=None, **kwargs) -> Axes``.

They draw on ``ax`` (or ``plt.gca()``) and return it; they never call ``plt.show()`` or
``savefig``. :func:`set_theme` applies the report look and a font list with a CJK fallback,
so Chinese labels render as text, not boxes.
"""

from __future__ import annotations

import io
import re
import unicodedata

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import offset_copy

PALETTE = [
    "#1f4e79",
    "#2e86ab",
    "#f18f01",
    "#c73e1d",
    "#3b8b5a",
    "#8e6c8a",
    "#6c757d",
    "#e0a458",
    "#5aa9e6",
    "#a23b72",
]
#: Fonts tried in order; the first installed CJK font is added as a fallback.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)


def cjk_font() -> str | None:
    """Name of an installed CJK-capable font, or None.

    matplotlib caches its font list; fonts installed after the cache was written (e.g.
    ``apt-get install fonts-noto-cjk`` after the first import) are found by rebuilding it
    once here.
    """

    def find() -> str | None:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    name = find()
    if name is None and any("cjk" in p.lower() for p in font_manager.findSystemFonts()):
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        name = find()
    return name


def set_theme(language: str = "en") -> None:
    """Report look: white grid, our palette, readable sizes, CJK fallback font."""
    sns.set_theme(style="whitegrid", palette=PALETTE, font_scale=0.95)
    fonts = ["DejaVu Sans"]
    cjk = cjk_font()
    if cjk:
        fonts = [cjk, *fonts] if language == "zh" else [*fonts, cjk]
    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": fonts + list(mpl.rcParams["font.sans-serif"]),
            "axes.unicode_minus": False,
            "figure.figsize": (8.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def show_figure(fig: plt.Figure, alt: str | None = None) -> None:
    """Lay out ``fig``, show it as one PNG and close it, drawing it once.

    ``alt`` is the image's text for screen readers; without it the report uses the
    takeaway shown under the chart (:mod:`analysis.report.render`).

    ``plt.show()`` under the inline backend draws every figure twice (once to find a tight
    bounding box, once to paint), and so does ``savefig`` after ``tight_layout()`` while the
    figure keeps the placeholder layout engine ``tight_layout`` leaves behind; the layout is
    final here, so the engine is dropped first.
    """
    from IPython.display import Image, display  # noqa: PLC0415

    fit_titles(fig)
    bars_from_zero(fig)
    legends_outside(fig)
    fig.tight_layout()
    fig.set_layout_engine(None)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt} if alt else None))


def bars_from_zero(fig: plt.Figure) -> None:
    """Start every bar chart's value axis at zero: a bar's length is its value, so an axis
    cut at $1.5M makes a 5% difference look like a doubling."""
    for ax in fig.axes:
        for container in ax.containers:
            if not isinstance(container, mpl.container.BarContainer) or not len(container):
                continue
            horizontal = getattr(container, "orientation", "vertical") == "horizontal"
            low, high = ax.get_xlim() if horizontal else ax.get_ylim()
            if low > high:  # an inverted axis
                continue
            low, high = min(low, 0.0), max(high, 0.0)
            (ax.set_xlim if horizontal else ax.set_ylim)(low, high)


def legends_outside(fig: plt.Figure) -> None:
    """Move legends placed inside their axes to the right of the plot area, where they
    cannot cover data or tick labels. A legend anchored elsewhere on purpose (its own
    ``bbox_to_anchor``) and figure legends stay where they are."""
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        anchor = legend.get_bbox_to_anchor()
        if anchor is not ax.bbox and anchor.bounds != ax.bbox.bounds:
            _clear_of_tick_labels(ax, legend)
            continue
        handles = list(legend.legend_handles)
        labels = [text.get_text() for text in legend.get_texts()]
        title = legend.get_title().get_text() or None
        ax.legend(
            handles,
            labels,
            title=title,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            frameon=False,
            fontsize=legend.get_texts()[0].get_fontsize() if labels else None,
        )


def _clear_of_tick_labels(ax: Axes, legend) -> None:
    """Move a legend placed under its axes (``bbox_to_anchor`` below the plot) further down
    when it would cover the x tick labels or axis label: measured with the figure's
    renderer (text extents only, no painting)."""
    renderer = ax.figure.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    axis = ax.xaxis.get_tightbbox(renderer)
    if axis is None or box.y1 <= axis.y0 or box.y0 >= axis.y1 or box.y1 > ax.bbox.y0 + 1:
        return  # clear of the labels, or not under the axes
    gap = (box.y1 - axis.y0) * 72 / ax.figure.dpi + 3  # points: labels keep their size
    (x0, y0), (x1, y1) = ax.transAxes.inverted().transform(legend.get_bbox_to_anchor().get_points())
    moved = offset_copy(ax.transAxes, fig=ax.figure, y=-gap, units="points")
    legend.set_bbox_to_anchor((x0, y0, x1 - x0, y1 - y0), transform=moved)


def fit_titles(fig: plt.Figure) -> None:
    """Wrap axes titles wider than their axes onto more lines.

    A long title over one of several side-by-side panels would otherwise run over the
    next panel or off the figure (``tight_layout`` leaves titles alone). Widths are
    estimated from the font size: about 0.6 em per Latin character and 1 em per CJK one.
    """
    for ax in fig.axes:
        title = ax.title
        text = title.get_text()
        if not text or "\n" in text:
            continue
        size = title.get_fontsize()
        room = ax.get_position().width * fig.get_figwidth() * 72  # points
        room = max(room, 2 * size)
        if _text_width(text, size) <= room:
            continue
        lines, line, used = [], "", 0.0
        for word in re.split(r"(?<=\s)|(?=[\u3400-\u9fff])", text):
            width = _text_width(word, size)
            if line and used + width > room:
                lines.append(line.rstrip())
                line, used = "", 0.0
            line += word
            used += width
        lines.append(line.rstrip())
        title.set_text("\n".join(lines))


def _text_width(text: str, size: float) -> float:
    """Estimated width in points: 1 em per wide (CJK) character, 0.6 em per other one."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def _ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.gca()


def thousands(ax: Axes, axis: str = "y", prefix: str = "") -> None:
    """Format an axis with thousands separators (and an optional currency prefix)."""
    fmt = FuncFormatter(lambda v, _: f"{prefix}{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def plot_trend(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    highlight: tuple | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """A line chart over time; ``highlight=(start, end)`` shades the report period."""
    ax = _ax(ax)
    sns.lineplot(data=data, x=x, y=y, hue=hue, marker="o", ax=ax, **kwargs)
    if highlight is not None:
        ax.axvspan(
            pd.Timestamp(highlight[0]),
            pd.Timestamp(highlight[1]),
            color="#f18f01",
            alpha=0.12,
            lw=0,
        )
    ax.set_xlabel("")
    return ax


def plot_bars(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    horizontal: bool = False,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Bars with value labels; ``horizontal`` puts categories on the y axis."""
    ax = _ax(ax)
    if horizontal:
        sns.barplot(data=data, y=x, x=y, hue=hue, orient="h", ax=ax, **kwargs)
    else:
        sns.barplot(data=data, x=x, y=y, hue=hue, ax=ax, **kwargs)
    for container in ax.containers:
        ax.bar_label(container, fmt="{:,.0f}", fontsize=8, padding=2)
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


def plot_share_bar(shares: pd.Series, *, ax: Axes | None = None, **kwargs) -> Axes:
    """One horizontal 100% stacked bar of category shares (a readable pie replacement)."""
    ax = _ax(ax)
    left = 0.0
    for i, (label, share) in enumerate(shares.items()):
        ax.barh(0, share, left=left, color=PALETTE[i % len(PALETTE)], **kwargs)
        if share >= 0.06:
            ax.text(
                left + share / 2,
                0,
                f"{label}\n{share:.0%}",
                ha="center",
                va="center",
                color="white",
                fontsize=9,
            )
        left += share
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.grid(False)
    return ax


def plot_heatmap(
    matrix: pd.DataFrame,
    *,
    fmt: str = ",.0f",
    cmap: str = "Blues",
    center: float | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """An annotated heatmap of a small matrix (RFM grid, transitions, z-scores)."""
    ax = _ax(ax)
    values = matrix.astype(float)
    annot = values.map(lambda v: "" if np.isnan(v) else format(v, fmt))
    sns.heatmap(
        values,
        annot=annot,
        fmt="",
        cmap=cmap,
        center=center,
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        ax=ax,
        **kwargs,
    )
    ax.set_xlabel(ax.get_xlabel() or "")
    return ax


def plot_transitions(
    counts: pd.DataFrame,
    shares: pd.DataFrame,
    *,
    rows: list | None = None,
    columns: list | None = None,
    row_labels: list[str] | None = None,
    column_labels: list[str] | None = None,
    fontsize: float = 8.5,
    ax: Axes | None = None,
) -> Axes:
    """A from -> to transition matrix: cells coloured by row share, annotated with the share
    and the count (empty cells left blank). Used for lifecycle stages and segment migration.
    """
    ax = _ax(ax)
    rows = list(counts.index) if rows is None else rows
    columns = list(counts.columns) if columns is None else columns
    annot = pd.DataFrame(
        [
            [
                f"{shares.loc[r, c]:.0%}\n{counts.loc[r, c]:,}" if counts.loc[r, c] else ""
                for c in columns
            ]
            for r in rows
        ],
        index=rows,
        columns=columns,
    )
    sns.heatmap(
        shares.loc[rows, columns].astype(float).fillna(0.0),
        annot=annot,
        fmt="",
        cmap="Blues",
        vmin=0,
        vmax=1,
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        annot_kws={"fontsize": fontsize},
        ax=ax,
    )
    ax.set_xticks(
        np.arange(len(columns)) + 0.5,
        labels=column_labels if column_labels is not None else columns,
        rotation=0,
    )
    ax.set_yticks(
        np.arange(len(rows)) + 0.5,
        labels=row_labels if row_labels is not None else rows,
        rotation=0,
    )
    return ax
