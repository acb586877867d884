"""Seaborn charts of a MonthReport: value against target, trends with target and forecast, villages."""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")  # charts are drawn for files and notebooks, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from kpi import compute  # noqa: E402
from kpi.i18n import STATUS_COLORS, STATUS_LABELS  # noqa: E402
from kpi.report import MonthReport  # noqa: E402

# DejaVu Sans ships with matplotlib and has every Vietnamese letter with its tone marks.
FONT = "DejaVu Sans"
sns.set_theme(style="whitegrid", font=FONT, rc={"figure.dpi": 110, "axes.titlesize": 10, "axes.labelsize": 9,
                                                "xtick.labelsize": 8, "ytick.labelsize": 8,
                                                "text.parse_math": False})  # '$' in plan/village text is literal

WORDS = {
    "vi": {"target": "Chỉ tiêu giao", "value": "Lũy kế (%)", "deadline": "Hạn", "forecast": "Dự báo",
           "month": "Tháng", "share": "Đạt bao nhiêu % chỉ tiêu giao", "village": "Thôn",
           "value_vs_target": "Giá trị so với chỉ tiêu giao (%)"},
    "en": {"target": "Target", "value": "Year to date (%)", "deadline": "Deadline", "forecast": "Forecast",
           "month": "Month", "share": "Share of target reached", "village": "Village",
           "value_vs_target": "Value against target (%)"},
}


class Chart:
    """A drawn chart: shows itself as a PNG in any notebook (whatever the backend) at its natural size;
    `.figure` is the matplotlib figure for analysts who want to change it."""

    DPI = 200

    def __init__(self, figure: plt.Figure):
        self.figure = figure

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.DPI, metadata={"Software": None})
        return buf.getvalue()

    def _repr_png_(self):
        width, height = self.figure.get_size_inches() * 96
        return self.png(), {"width": int(width), "height": int(height)}


def _close(fig: plt.Figure) -> Chart:
    """Lay the figure out and close it, so a notebook shows it once, through Chart."""
    fig.tight_layout()
    plt.close(fig)
    return Chart(fig)


def scorecard_chart(r: MonthReport) -> Chart | None:
    """Every ratio indicator's year-to-date value as a bar, its target as a black tick, status in words."""
    card = r.card[r.card["kind"] == "ratio"].reset_index(drop=True)
    if card.empty:
        return None
    w = WORDS[r.lang]
    fig, ax = plt.subplots(figsize=(8.2, 0.34 * len(card) + 0.9))
    labels = [f"{i}. {textwrap.shorten(s, 34, placeholder='…')}" for i, s in zip(card["indicator"], card["short"])]
    y = np.arange(len(card))
    colors = [STATUS_COLORS[s] for s in card["status"]]
    ax.barh(y, card["value"].fillna(0), color=colors, edgecolor="#333", linewidth=0.5, height=0.7)
    ax.scatter(card["target"], y, marker="|", s=260, color="black", linewidths=2.2, zorder=3, label=w["target"])
    for yi, (v, s) in enumerate(zip(card["value"], card["status"])):
        text = (f"{v:.1f}%" if not np.isnan(v) else "—") + f"  {STATUS_LABELS[r.lang][s]}"
        ax.text(min(np.nan_to_num(v), 100) + 1.5, yi, text, va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 135)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(w["value_vs_target"])
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    return _close(fig)


def trends(r: MonthReport, ncols: int = 4) -> Chart | None:
    """Small multiples: each indicator's year-to-date value January..P, target line, deadline, forecast."""
    card = r.card
    if card.empty:
        return None
    w = WORDS[r.lang]
    hist = r.history[r.history["indicator"].isin(card["indicator"])]
    n = len(card)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.1 * nrows), squeeze=False)
    m = compute.month_of(r.period)
    for ax, (_, row) in zip(axes.flat, card.iterrows()):
        h = hist[hist["indicator"] == row.indicator]
        sns.lineplot(x=h["month"], y=h["value"], ax=ax, marker="o", color="#0b4f8a", markersize=4)
        if not np.isnan(row.target):
            ax.axhline(row.target, color="black", linestyle="--", linewidth=1)
            ax.text(0.6, row.target, f" {w['target']} {row.target:g}", fontsize=7, va="bottom")
        ind = r.plan.indicator(row.indicator)
        if ind.deadline and ind.deadline.year == r.plan.year:
            ax.axvline(ind.deadline.month, color="#D55E00", linestyle=":", linewidth=1.2)
        if not np.isnan(row.forecast) and ind.deadline:
            last = h.dropna(subset=["value"]).tail(1)
            if not last.empty:
                ax.plot([last["month"].iloc[0], ind.deadline.month], [last["value"].iloc[0], row.forecast],
                        color="#888", linestyle="-.", linewidth=1)
        ax.set_title(f"{row.indicator}. {textwrap.shorten(row.short, 26, placeholder='…')}\n"
                     f"{STATUS_LABELS[r.lang][row.status]}", fontsize=8.5)
        ax.set_xlim(0.5, 12.5)
        ax.set_xticks(range(1, 13, 2))
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.axvspan(m + 0.5, 12.5, color="#f2f2f2", zorder=0)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return _close(fig)


def village_heatmap(r: MonthReport) -> Chart | None:
    """Villages × village-level indicators, each cell the share of target reached; lagging villages stand out."""
    v = r.villages[r.villages["indicator"].isin(r.card["indicator"])]
    if v.empty:
        return None
    w = WORDS[r.lang]
    grid = v.pivot(index="village", columns="indicator", values="share_of_target") * 100
    grid = grid.reindex(index=r.plan.village_names, columns=[i for i in r.card["indicator"] if i in grid.columns])
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * grid.shape[1], 0.27 * grid.shape[0] + 1.3))
    sns.heatmap(grid.clip(upper=150), ax=ax, cmap="cividis", vmin=0, vmax=150, annot=grid.round(0), fmt=".0f",
                annot_kws={"fontsize": 6.5}, cbar_kws={"label": w["share"], "shrink": 0.6}, linewidths=0.3,
                linecolor="white", mask=grid.isna())
    ax.set_xlabel("")
    ax.set_ylabel(w["village"])
    ax.set_title(w["share"], fontsize=9)
    return _close(fig)


def month_table(hist: pd.DataFrame) -> pd.DataFrame:
    """History as indicator × month (for analysts)."""
    return hist.pivot(index="indicator", columns="month", values="value")
