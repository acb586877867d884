"""The phone form of each wide chart: 322 px wide (a 360 px screen less the page's margins), every text at 9 pt
(12 CSS px at that width), names wrapped instead of shortened, laid out top to bottom in inches."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from kpi.report.hatching import hatch_bars  # noqa: E402

WIDTH_IN = 3.35  # 322 CSS px: the phone SVG is shown at its natural size, never shrunk, on a 360 px screen
PT = 9.0  # every text of a phone chart: 12 CSS px (the floor the report keeps is 11)
LINE_IN = PT * 1.32 / 72  # one line of text
WRAP = 44  # letters to a line at 9 pt within WIDTH_IN (DejaVu Sans, the widest of the font stack)
LEFT_IN, RIGHT_IN = 0.06, 0.1


@dataclass
class Row:
    """One indicator of a bar list: its name (wrapped), a line of words (value, target, status), a bar made of
    segments (start, width, colour, hatch) and, where it has one, the target as a black tick."""

    label: str
    words: str
    segments: list[tuple[float, float, str, str]] = field(default_factory=list)
    target: float | None = None


def bar_list(rows: list[Row], xmax: float, axis_label: str, ticks: list[float], legend: list[Patch] | None = None):
    """Rows one under another: name, words, then the bar; the x axis with its label at the foot; a legend (two
    to a line) under it. The words carry the status, the colour and hatching repeat it."""
    lines = [textwrap.wrap(r.label, WRAP) or [""] for r in rows]
    bar_in, gap_in = 0.17, 0.14
    heights = [LINE_IN * (len(ls) + 1) + bar_in + gap_in for ls in lines]
    label_lines = textwrap.wrap(axis_label, WRAP)
    foot_in = 0.28 + LINE_IN * len(label_lines)
    legend_in = LINE_IN * 1.25 * int(np.ceil(len(legend or []) / 2)) + (0.1 if legend else 0)
    top_in = 0.08
    plot_in = sum(heights)
    height = top_in + plot_in + foot_in + legend_in
    fig = plt.figure(figsize=(WIDTH_IN, height))
    ax = fig.add_axes((LEFT_IN / WIDTH_IN, (foot_in + legend_in) / height,
                       1 - (LEFT_IN + RIGHT_IN) / WIDTH_IN, plot_in / height))
    ax.set_xlim(0, xmax)
    ax.set_ylim(plot_in, 0)  # y in inches from the top of the plot
    y, bars, hatches = 0.0, [], []
    for row, ls, h in zip(rows, lines, heights):
        for k, text in enumerate(ls + [row.words]):
            ax.text(0, y + LINE_IN * (k + 0.5), text, fontsize=PT, va="center", ha="left",
                    fontweight="bold" if k == len(ls) else "normal")
        mid = y + LINE_IN * (len(ls) + 1) + bar_in / 2 + 0.02
        ax.barh(mid, xmax, height=bar_in, left=0, color="#f2f2f2", edgecolor="none", zorder=1)
        for start, width, colour, hatch in row.segments:
            bar = ax.barh(mid, width, height=bar_in, left=start, color=colour, edgecolor="#222", linewidth=0.6,
                          zorder=2)
            bars.append(bar[0])
            hatches.append(hatch)
        if row.target is not None and not np.isnan(row.target):
            t = min(row.target, xmax)
            ax.plot([t, t], [mid - bar_in * 0.85, mid + bar_in * 0.85], color="white", linewidth=5, zorder=3,
                    solid_capstyle="butt")
            ax.plot([t, t], [mid - bar_in * 0.8, mid + bar_in * 0.8], color="black", linewidth=2.2, zorder=4,
                    solid_capstyle="butt")
        y += h
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.set_xticks(ticks)
    ax.tick_params(axis="x", labelsize=PT, pad=2)
    ax.grid(False)
    fig.text(LEFT_IN / WIDTH_IN, (legend_in + 0.02) / height, "\n".join(label_lines), fontsize=PT, va="bottom",
             ha="left", linespacing=1.25)
    hatch_bars(ax, bars, hatches)
    if legend:
        fig.legend(handles=legend, loc="lower left", ncol=2, fontsize=PT, frameon=False, handlelength=1.4,
                   borderaxespad=0.1, columnspacing=1.0, bbox_to_anchor=(0, 0))
    plt.close(fig)
    return fig


def share_grid(grid, names: dict[str, str], colors: tuple, bins: tuple, bin_words: tuple, legend_title: str,
               village_word: str, below_word: str):
    """Villages × village-level indicators for a phone: each column headed by the indicator's number only (the
    names in a key under the grid), each cell its share of the target in figures, in bands of colour; the last
    column how many indicators the village has below target. As many columns as keep room for '100' in a cell,
    in balanced blocks one under another when there are more."""
    cols = list(grid.columns)
    name_in = max(0.45, max((len(str(v)) for v in grid.index), default=4) * PT * 0.62 / 72 + 0.08)
    count_in, row_in, head_in, min_cell_in = 0.3, 0.215, LINE_IN * 1.6, 0.25  # a cell holds '100' at 9 pt
    room = max(WIDTH_IN - LEFT_IN - RIGHT_IN - name_in - count_in, min_cell_in)
    nblocks = int(np.ceil(len(cols) / max(1, int(room / min_cell_in)))) or 1
    per_block = int(np.ceil(len(cols) / nblocks)) or 1
    blocks = [cols[k:k + per_block] for k in range(0, len(cols), per_block)] or [[]]
    cell_in = min(room / per_block, 0.4)
    key = [line for c in cols for line in textwrap.wrap(f"{c}. {names.get(c, c)}", WRAP)]
    bands = list(zip(colors, bin_words))
    legend_in = LINE_IN * (2 + int(np.ceil(len(bands) / 2))) + 0.05
    key_in = LINE_IN * len(key) + 0.1
    block_in = head_in + row_in * len(grid) + 0.18
    height = 0.05 + block_in * len(blocks) + legend_in + key_in
    fig = plt.figure(figsize=(WIDTH_IN, height))
    cmap = ListedColormap(colors).with_extremes(bad="white")
    norm = BoundaryNorm(bins, cmap.N)
    below = (grid < 100).sum(axis=1)
    top = height - 0.05
    for block in blocks:
        width_in = name_in + cell_in * len(block) + count_in
        ax = fig.add_axes((LEFT_IN / WIDTH_IN, (top - block_in + 0.18) / height, width_in / WIDTH_IN,
                           (block_in - 0.18) / height))
        ax.set_axis_off()
        nrows = len(grid)
        ax.set_xlim(0, width_in)
        ax.set_ylim(head_in + row_in * nrows, 0)
        ax.text(0, head_in / 2, village_word, fontsize=PT, fontweight="bold", va="center")
        for j, c in enumerate(block):
            x = name_in + cell_in * j
            ax.text(x + cell_in / 2, head_in / 2, str(c), fontsize=PT, fontweight="bold", ha="center", va="center")
            for i, val in enumerate(grid[c].to_numpy(dtype=float)):
                y = head_in + row_in * i
                if np.isnan(val):
                    ax.add_patch(Rectangle((x, y), cell_in, row_in, facecolor="white", edgecolor="#999",
                                           linewidth=0.4))
                    continue
                band = int(np.digitize(val, bins[1:-1]))
                ax.add_patch(Rectangle((x, y), cell_in, row_in, facecolor=cmap(norm(val)), edgecolor="white",
                                       linewidth=0.6))
                shown = f"{val:.0f}" if val >= 100 else f"{np.floor(val):.0f}"
                ax.text(x + cell_in / 2, y + row_in / 2, shown, fontsize=PT, ha="center", va="center",
                        color="white" if band <= 1 else "black", fontweight="bold" if val < 100 else "normal")
        ax.text(width_in - count_in / 2, head_in / 2, "n", fontsize=PT, ha="center", va="center")
        for i, (village, b) in enumerate(zip(grid.index, below)):
            y = head_in + row_in * (i + 0.5)
            ax.text(0, y, str(village), fontsize=PT, va="center")
            ax.text(width_in - count_in / 2, y, str(int(b)), fontsize=PT, ha="center", va="center",
                    fontweight="bold" if b else "normal")
        top -= block_in
    lines = [legend_title, f"n: {below_word}"]
    for k, line in enumerate(lines):
        fig.text(LEFT_IN / WIDTH_IN, (top - LINE_IN * (k + 0.5)) / height, line, fontsize=PT, va="center")
    handles = [Patch(facecolor=c, edgecolor="#333", label=lab) for c, lab in bands]
    fig.legend(handles=handles, loc="upper left", ncol=2, fontsize=PT, frameon=False, handlelength=1.4,
               borderaxespad=0, columnspacing=1.0,
               bbox_to_anchor=(LEFT_IN / WIDTH_IN, (top - LINE_IN * len(lines)) / height))
    top -= legend_in
    for k, line in enumerate(key):
        fig.text(LEFT_IN / WIDTH_IN, (top - LINE_IN * (k + 0.5)) / height, line, fontsize=PT, va="center")
    plt.close(fig)
    return fig
