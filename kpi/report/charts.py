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
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from markupsafe import Markup  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from kpi.core import formats, periods  # noqa: E402
from kpi.core.i18n import LANGS, STATUS_COLORS, STATUS_LABELS, words  # noqa: E402
from kpi.indicators import compute
from kpi.report import MonthReport  # noqa: E402
from kpi.report import phone_charts  # noqa: E402
from kpi.report.hatching import hatch_bars  # noqa: E402
from kpi.report.svg import figure_svg, panel_svgs  # noqa: E402
from kpi.report.templates import render  # noqa: E402

# DejaVu Sans ships with matplotlib and has every Vietnamese letter with its tone marks.
FONT = "DejaVu Sans"
sns.set_theme(style="whitegrid", font=FONT, rc={"figure.dpi": 110, "axes.titlesize": 10, "axes.labelsize": 9,
                                                "xtick.labelsize": 8, "ytick.labelsize": 8,
                                                "text.parse_math": False})  # '$' in plan/village text is literal

WORDS = {lang: words(lang, "charts") for lang in LANGS}
PHONE_SVG = "application/vnd.kpi.phone+svg"  # a chart's phone form in a notebook's outputs
PHONE_HTML = "application/vnd.kpi.phone+html"  # small multiples as the report shows them (folded on a phone)

# Hatching by status, so bars stay apart in greyscale and for colour-blind readers (the words go with them).
STATUS_HATCHES = {"achieved": "", "on_track": "...", "behind": "///", "missed": "xxx", "encouraged": "",
                  "no_data": ""}
# Village shares of target, in four bands from cividis (made for colour-blind readers, lightness rises
# monotonically so greyscale keeps the order): dark = far behind, yellow = target reached.
SHARE_BINS = (0, 50, 80, 100, 1e9)
SHARE_COLORS = ("#00224e", "#575c6d", "#a59c74", "#fee838")


def status_counts_text(statuses, lang: str) -> str:
    """'Đạt: 5; Chậm tiến độ: 3' — how many of each status, in the order of STATUS_LABELS."""
    counts = pd.Series(list(statuses)).value_counts()
    return "; ".join(f"{label}: {counts[s]}" for s, label in STATUS_LABELS[lang].items() if s in counts)


class Chart:
    """A drawn chart: shows itself in any notebook and in the report as an inline SVG (kpi.report.svg: text kept as
    text, so Vietnamese labels can be searched and selected; it shrinks to a phone's width and stays crisp
    when zoomed, and the PDF gets the same vector chart), with `alt`, a sentence saying what it shows
    (screen readers: the SVG's title and aria-label); `.figure` is the matplotlib figure for analysts who
    want to change it, `.png()` a raster copy for a slide or a message."""

    DPI = 150

    def __init__(self, figure: plt.Figure, alt: str = "", name: str = "chart", phone: plt.Figure | None = None):
        self.figure = figure
        self.alt = alt
        self.name = name  # keeps the SVG ids of the charts of one page apart
        self.phone = phone  # the phone form (kpi.report.phone_charts), where the wide one would be too small
        self._drawn: dict = {}  # (figure id, form) -> SVG: see _once

    def _once(self, figure: plt.Figure, form: str, draw):
        """`draw()` run once per form while nobody changes `figure`: a notebook cell's output asks for the same SVG
        twice or more (the wide and phone forms, the folded and open panels), and drawing is most of a report's
        time. matplotlib marks a figure `stale` at any change to one of its artists, which drops what was drawn
        of it, so an analyst who changes `.figure` gets the changed chart."""
        if figure.stale:
            self._drawn = {key: svg for key, svg in self._drawn.items() if key[0] != id(figure)}
        key = (id(figure), form)
        if key not in self._drawn:
            self._drawn[key] = draw()
        figure.stale = False  # drawing (and the panels' cutting) marks it; what was drawn is the figure as it is
        return self._drawn[key]

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.DPI, metadata={"Software": None})
        return buf.getvalue()

    def svg(self) -> str:
        return self._once(self.figure, "svg", lambda: figure_svg(self.figure, self.alt, salt=self.name))

    def phone_svg(self) -> str:
        if self.phone is None:
            return ""
        return self._once(self.phone, "svg", lambda: figure_svg(self.phone, self.alt, salt=f"{self.name}-phone"))

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        # SVG (no PNG beside it): JupyterLab shows the wide chart; the report's template shows the phone form,
        # under its own media type, on a narrow screen (kpi/templates/kpi_report/index.html.j2)
        data = {"image/svg+xml": self.svg(), "text/plain": self.alt or "Chart"}
        if self.phone is not None:
            data[PHONE_SVG] = self.phone_svg()
        return data, {"image/svg+xml": {"alt": self.alt}} if self.alt else {}


class SmallMultiples(Chart):
    """A grid of panels (trends). In the report each panel is an SVG of its own, so that a phone shows them one
    under another at their natural size and a wide screen or A4 four to a row (report.css), instead of one
    wide picture shrunk to a third on a phone. `.figure` and `.svg()` are still the whole grid."""

    def __init__(self, figure: plt.Figure, alt: str, name: str, axes: list, titles: list[str], legend: plt.Figure,
                 fold: str = ""):
        super().__init__(figure, alt, name)
        self.axes, self.titles, self.legend = axes, titles, legend
        self.fold = fold  # in the report, the panels are one line a tap away on a phone (details.fold), with this

    def html(self, fold: str = "") -> str:
        panels = [Markup(p) for p in self._once(self.figure, "panels",
                                                 lambda: panel_svgs(self.figure, self.axes, self.titles, self.name))]
        legend = Markup(self._once(self.legend, "svg", lambda: figure_svg(self.legend, salt=f"{self.name}-legend")))
        return str(render("report/chart_grid.html.j2", alt=self.alt, legend=legend, panels=panels, fold=fold))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # JupyterLab shows the panels open (text/html); the report's template takes the folded form (PHONE_HTML)
        data = {"text/html": self.html(), "text/plain": self.alt}
        if self.fold:
            data[PHONE_HTML] = self.html(self.fold)
        return data, {}


class NoData:
    """What a chart cell shows when there is nothing to draw: a sentence in the report's language."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return str(render("report/nodata.html.j2", text=self.text))

    def __repr__(self) -> str:
        return self.text


def _no_values(r: MonthReport, column: pd.Series) -> NoData | None:
    """A NoData note when a chart's values are all missing (an empty month, units not sent), else None."""
    if column.notna().any():
        return None
    return NoData(WORDS[r.lang]["nothing"].format(m=periods.month_number(r.period), y=periods.year_of(r.period)))


def _close(fig: plt.Figure, alt: str, tight: bool = True, name: str = "chart", phone: plt.Figure | None = None) -> Chart:
    """Lay the figure out and close it, so a notebook shows it once, through Chart."""
    if tight:
        fig.tight_layout()
    plt.close(fig)
    return Chart(fig, alt, name, phone)


def scorecard_chart(r: MonthReport) -> Chart | NoData | None:
    """Every ratio indicator's year-to-date value as a bar (colour and hatching by status), its target as a
    black tick, and the value and status in words at the bar's end."""
    card = r.card[r.card["kind"] == "ratio"].reset_index(drop=True)
    if card.empty:
        return None
    if (note := _no_values(r, card["value"])) is not None:
        return note
    w = WORDS[r.lang]
    fig, ax = plt.subplots(figsize=(7.6, 0.3 * len(card) + 0.8))
    labels = ["\n".join(textwrap.wrap(f"{i}. {s}", 44)) for i, s in zip(card["indicator"], card["short"])]  # whole
    y = np.arange(len(card))
    bars = ax.barh(y, card["value"].fillna(0), color=[STATUS_COLORS[s] for s in card["status"]],
                   edgecolor="#222", linewidth=0.6, height=0.68)
    # the target tick: black with a white halo, so it stands out on any bar colour or grey
    ax.scatter(card["target"], y, marker="|", s=420, color="white", linewidths=5.5, zorder=3)
    ax.scatter(card["target"], y, marker="|", s=380, color="black", linewidths=2.4, zorder=4)
    for yi, (v, s) in enumerate(zip(card["value"], card["status"])):
        text = formats.percent(v, 1, r.lang) + f" · {STATUS_LABELS[r.lang][s]}"
        ax.text(max(min(np.nan_to_num(v), 100), np.nan_to_num(card["target"][yi])) + 2, yi, text, va="center",
                fontsize=8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 140)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(w["value_vs_target"])
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    hatch_bars(ax, bars, [STATUS_HATCHES[s] for s in card["status"]])  # once laid out: 45° on the figure
    return _close(fig, w["alt_scorecard"].format(n=len(card), counts=status_counts_text(card["status"], r.lang)),
                  tight=False, name="scorecard", phone=_scorecard_phone(card, r.lang))


def _scorecard_phone(card: pd.DataFrame, lang: str) -> plt.Figure:
    """The scorecard chart for a phone: each indicator's whole short name, then '56,3% / 80% · Chậm tiến độ',
    then its bar (colour and hatching by status) with the target's black tick."""
    xmax = float(np.nanmax([100, *card["target"].fillna(0)]))
    rows = [phone_charts.Row(f"{row.indicator}. {row.short}",
                             f"{formats.percent(row.value, 1, lang)} / {formats.percent(row.target, 0 if row.target % 1 == 0 else 1, lang)} · "
                             f"{STATUS_LABELS[lang][row.status]}",
                             [(0, min(np.nan_to_num(row.value), xmax), STATUS_COLORS[row.status],
                               STATUS_HATCHES[row.status])], row.target)
            for row in card.itertuples()]
    return phone_charts.bar_list(rows, xmax, WORDS[lang]["value_vs_target"], list(range(0, int(xmax) + 1, 20)))


def trends(r: MonthReport, ncols: int = 4) -> Chart | NoData | None:
    """Small multiples: each indicator's year-to-date value January..P, its target line, its deadline and the
    forecast at the deadline (docs/rules.md §3: least squares through the last up to 3 months); status in words."""
    card = r.card
    if card.empty:
        return None
    w = WORDS[r.lang]
    hist = r.history[r.history["indicator"].isin(card["indicator"])]
    if (note := _no_values(r, hist["value"])) is not None:
        return note
    n = len(card)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.55 * ncols, 2.2 * nrows + 0.5), squeeze=False)
    m = compute.month_of(r.period)
    for ax, (_, row) in zip(axes.flat, card.iterrows()):
        h = hist[hist["indicator"] == row.indicator].dropna(subset=["value"])
        dm = compute.deadline_month(r.plan, row.indicator)
        xmax = max(12, dm or 0) + 0.5
        ax.axvspan(m + 0.5, xmax, color="#eeeeee", zorder=0, linewidth=0)
        ax.plot(h["month"], h["value"], marker="o", color="#0b4f8a", markersize=3.5, linewidth=1.6, zorder=3)
        top = [0 if h.empty else h["value"].max()]
        if not np.isnan(row.target):
            ax.axhline(row.target, color="black", linestyle="--", linewidth=1)
            top.append(row.target)
        if dm is not None:
            ax.axvline(dm, color="#D55E00", linestyle=":", linewidth=1.6)
        ylim = max(max(top) * 1.18, 1 if row.kind == "count" else 10)
        if not np.isnan(row.forecast) and dm is not None and dm >= m and not h.empty:  # no forecast of the past
            fc = float(np.clip(row.forecast, 0, ylim * 0.98))
            ax.plot([h["month"].iloc[-1], dm], [h["value"].iloc[-1], fc], color="#555", linestyle="-.",
                    linewidth=1.1, zorder=2)
            ax.plot([dm], [fc], marker="X", color="#555", markersize=5.5, zorder=4)
        ax.set_ylim(0, ylim)
        ax.set_xlim(0.5, xmax)
        ax.set_xticks(range(1, int(xmax) + 1, 2))
        ax.tick_params(labelsize=phone_charts.PT, pad=1)
        ax.set_xlabel("")
        ax.set_ylabel("%" if row.kind == "ratio" else "", fontsize=phone_charts.PT, labelpad=1)
        label = STATUS_LABELS[r.lang][row.status]
        value = _trend_value(row, r.lang)
        # y given: matplotlib then skips placing the title above top tick labels, which there are none of (it
        # measured every y tick label of the panel for it, at each draw and each cut: a third of the panel's time)
        ax.set_title("\n".join(textwrap.wrap(f"{row.indicator}. {row.short}", 27)), fontsize=phone_charts.PT,
                     pad=19,
                     loc="left", y=1.0)
        ax.text(0, 1.015, f"{value} · {label}", transform=ax.transAxes, fontsize=phone_charts.PT, va="bottom", ha="left",
                fontweight="bold", color="#000",
                bbox={"boxstyle": "square,pad=0.15", "facecolor": STATUS_COLORS[row.status], "edgecolor": "#333",
                      "linewidth": 0.5})
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [Line2D([], [], color="#0b4f8a", marker="o", markersize=3.5, label=w["value"]),
               Line2D([], [], color="black", linestyle="--", label=w["target"]),
               Line2D([], [], color="#D55E00", linestyle=":", linewidth=1.6, label=w["deadline"]),
               Line2D([], [], color="#555", linestyle="-.", marker="X", markersize=5, label=w["forecast"])]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0))
    _grid_layout(fig, axes, nrows, ncols)
    legend = plt.figure(figsize=(3.3, 0.5))  # the report's legend: two by two, as wide as a phone
    legend.legend(handles=handles, loc="center", ncol=2, fontsize=phone_charts.PT, frameon=False)
    plt.close(legend)
    plt.close(fig)
    titles = [f"{row.indicator}. {row.short}: {_trend_value(row, r.lang)} · {STATUS_LABELS[r.lang][row.status]}"
              for row in card.itertuples()]
    return SmallMultiples(fig, w["alt_trends"].format(n=n, m=m, counts=status_counts_text(card["status"], r.lang)),
                          "trends", list(axes.flat)[:n], titles, legend, w["trends_fold"].format(n=n))


def _trend_value(row, lang: str) -> str:
    return formats.value(row.value, row.kind, lang)


# The trends grid's margins and gaps in inches, as tight_layout lays them out for tick labels of up to three
# characters (0–120 %, counts below 1 000). Fixed margins cost nothing; tight_layout measures every text of
# every small multiple (about 2 s for the commune's 20 panels, a fifth of the report).
TRENDS_MARGINS = {"left": 0.58, "right": 0.18, "top": 0.98, "bottom": 0.4, "col_gap": 0.50, "row_gap": 0.86}


def _grid_layout(fig: plt.Figure, axes: np.ndarray, nrows: int, ncols: int) -> None:
    """Place the small multiples with TRENDS_MARGINS; a panel with wider tick labels (1 000 or more) gets
    matplotlib's tight_layout instead."""
    widest = max((len(t) for ax in axes.flat if ax.axison
                  for t in ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())), default=0)
    if widest > 3:
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.32 / fig.get_size_inches()[1]), h_pad=1.0, w_pad=0.6)
        return
    m = TRENDS_MARGINS
    width, height = fig.get_size_inches()
    ax_w = (width - m["left"] - m["right"] - (ncols - 1) * m["col_gap"]) / ncols
    ax_h = (height - m["top"] - m["bottom"] - (nrows - 1) * m["row_gap"]) / nrows
    fig.subplots_adjust(left=m["left"] / width, right=1 - m["right"] / width, top=1 - m["top"] / height,
                        bottom=m["bottom"] / height, wspace=m["col_gap"] / ax_w, hspace=m["row_gap"] / ax_h)


def village_heatmap(r: MonthReport) -> Chart | NoData | None:
    """Villages × village-level indicators, each cell the village's share of the target reached, in four
    bands (dark = far behind); beside it, how many indicators each village has below target, so the villages
    that lag stand out at a glance."""
    v = r.villages[r.villages["indicator"].isin(r.card["indicator"])]
    if v.empty:
        return None
    if (note := _no_values(r, v["share_of_target"])) is not None:
        return note
    w = WORDS[r.lang]
    grid = v.pivot(index="village", columns="indicator", values="share_of_target") * 100
    grid = grid.reindex(index=r.plan.village_names, columns=[i for i in r.card["indicator"] if i in grid.columns])
    below = (grid < 100).sum(axis=1)
    cmap = ListedColormap(SHARE_COLORS).with_extremes(bad="white")
    norm = BoundaryNorm(SHARE_BINS, cmap.N)
    fig = plt.figure(figsize=(2.2 + 0.5 * grid.shape[1] + 1.3, 0.235 * grid.shape[0] + 2.6))
    gs = fig.add_gridspec(1, 2, width_ratios=(grid.shape[1], 2.4), wspace=0.06)
    ax, side = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
    data = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    ax.pcolormesh(np.arange(grid.shape[1] + 1), np.arange(grid.shape[0] + 1), data, cmap=cmap, norm=norm,
                  edgecolors="white", linewidth=0.6)
    for (i, j), val in np.ndenumerate(grid.to_numpy(dtype=float)):
        if np.isnan(val):
            continue
        band = int(np.digitize(val, SHARE_BINS[1:-1]))
        shown = f"{val:.0f}" if val >= 100 else f"{np.floor(val):.0f}"  # 99.6 must not read as 100
        ax.text(j + 0.5, i + 0.5, shown, ha="center", va="center", fontsize=6.5,
                color="white" if band <= 1 else "black", fontweight="bold" if val < 100 else "normal")
    ax.set_xlim(0, grid.shape[1])
    ax.set_ylim(grid.shape[0], 0)
    shorts = dict(zip(r.card["indicator"], r.card["short"]))
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5,
                  ["\n".join(textwrap.wrap(f"{i}. {shorts[i]}", 30)) for i in grid.columns], fontsize=7.5,
                  rotation=40, ha="left", rotation_mode="anchor")
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, list(grid.index), fontsize=7.5)
    ax.tick_params(length=0)
    ax.grid(False)
    ax.set_ylabel(w["village"])
    colors = [SHARE_COLORS[0] if b >= 0.5 * grid.shape[1] else SHARE_COLORS[1] if b > 0 else SHARE_COLORS[3]
              for b in below]
    side.barh(np.arange(len(below)) + 0.5, below.to_numpy(), color=colors, edgecolor="#333", linewidth=0.5,
              height=0.7)
    for i, b in enumerate(below):
        side.text(b + 0.2, i + 0.5, str(int(b)), va="center", fontsize=7)
    side.set_ylim(len(below), 0)
    side.set_xlim(0, grid.shape[1] + 1.5)
    side.set_yticks([])
    side.xaxis.tick_top()
    side.tick_params(labelsize=7, length=0)
    side.set_title(w["lagging"], fontsize=7.5)
    side.grid(axis="y", visible=False)
    handles = [Patch(facecolor=c, edgecolor="#333", label=lab) for c, lab in zip(SHARE_COLORS, w["bins"])]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7.5, frameon=False,
               title=f"{w['share']} · {w['no_data']}", title_fontsize=7.5, bbox_to_anchor=(0.5, 0.0))
    fig.subplots_adjust(left=0.14, right=0.9, top=1 - 1.65 / fig.get_size_inches()[1],
                        bottom=0.75 / fig.get_size_inches()[1])
    phone = phone_charts.share_grid(grid, shorts, SHARE_COLORS, SHARE_BINS, w["bins"],
                                    f"{w['share']} · {w['no_data']}", w["village"], w["lagging"].replace("\n", " "))
    return _close(fig, w["alt_villages"].format(v=grid.shape[0], k=grid.shape[1], x=int((below > 0).sum())),
                  tight=False, name="villages", phone=phone)


def month_table(hist: pd.DataFrame) -> pd.DataFrame:
    """History as indicator × month (for analysts), indicators in plan order (1, 2, 3a … 3d, 4, …, 10, 11, …),
    never text order (1, 10, 11, …, 2)."""
    table = hist.pivot(index="indicator", columns="month", values="value")
    if "order" in hist:
        plan_order = hist.drop_duplicates("indicator").sort_values("order", kind="stable")["indicator"]
    else:  # no plan order given: the number first, then the letter (3a < 3b < 4 < 10)
        plan_order = sorted(hist["indicator"].drop_duplicates(), key=lambda i: (int("".join(c for c in i if c.isdigit()) or 0), i))
    return table.reindex(list(plan_order))
