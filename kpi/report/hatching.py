"""Hatching drawn as one path clipped to each bar: a vector that every engine prints as it is."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import PathPatch
from matplotlib.path import Path

STEP_PX = 6.0  # distance between hatch lines (and dots), in the figure's pixels
DOT_PX = 0.9  # half the side of a dot


def hatch_bars(ax, bars, patterns: list[str], color: str = "#222", linewidth: float = 0.9) -> None:
    """'///', 'xxx' (both diagonals) or '...' (dots) over each bar, as one path per bar clipped to the bar.

    Not matplotlib's hatch fill, because that becomes an SVG <pattern>, which Chromium prints as a picture
    for every bar it fills (the scorecard chart's page of the PDF grew by a megabyte); one path of lines or
    dots is a few hundred bytes. Call it once the axes are laid out: the diagonals are 45° on the figure."""
    to_data = ax.transData.inverted()
    for bar, pattern in zip(bars, patterns):
        if not pattern or bar.get_width() <= 0 or bar.get_height() <= 0:
            continue
        corners = ax.transData.transform([(bar.get_x(), bar.get_y()),
                                          (bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height())])
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        if "." in pattern:
            xs, ys = np.meshgrid(np.arange(x0 + STEP_PX / 2, x1, STEP_PX), np.arange(y0 + STEP_PX / 2, y1, STEP_PX))
            d = DOT_PX
            squares = [[(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d), (x - d, y - d)]
                       for x, y in zip(xs.ravel(), ys.ravel())]
            codes = [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY] * len(squares)
            style = {"facecolor": color, "edgecolor": "none"}
        else:
            h = y1 - y0
            starts = np.arange(x0 - h, x1 + STEP_PX, STEP_PX)
            squares = [[(c, y0), (c + h, y1)] for c in starts]
            if "x" in pattern:
                squares += [[(c, y1), (c + h, y0)] for c in starts]
            codes = [Path.MOVETO, Path.LINETO] * len(squares)
            style = {"facecolor": "none", "edgecolor": color, "linewidth": linewidth}
        if not squares:
            continue
        path = Path(to_data.transform(np.concatenate(squares)), codes)
        patch = PathPatch(path, zorder=bar.get_zorder() + 0.1, **style)
        ax.add_patch(patch)
        patch.set_clip_path(bar)
