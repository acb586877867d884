"""What the province report shows: roll-up table, ranking, commune × indicator status chart, communes missing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from IPython.display import HTML  # noqa: E402
from markupsafe import Markup  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from kpi import province  # noqa: E402
from kpi.core import formats, periods  # noqa: E402
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES, WORDS  # noqa: E402
from kpi.plan import Plan, load_plan  # noqa: E402
from kpi.report import phone_charts  # noqa: E402
from kpi.report.charts import STATUS_HATCHES, Chart  # noqa: E402
from kpi.report.hatching import hatch_bars  # noqa: E402
from kpi.report.templates import badge, render  # noqa: E402
from kpi.report.views import print_css  # noqa: E402

TOP = 3  # communes named at each end of a ranking


def build(period: str, data_root: str | Path, plan_path: str | Path | None = None,
          results_dir: str | Path | None = None,
          province_plan: str | Path | None = None) -> tuple[Plan, province.ProvinceReport]:
    """The province report for period P: read from `results_dir` when the batch computed it (on a Dask cluster,
    `kpi run --scheduler`, or from the communes' packages, `kpi run --packages`; province.write_report), else
    computed here from every commune under the root, with the province plan's targets when there is one."""
    from kpi.province.targets import load_province_plan

    plan = load_plan(plan_path)
    if results_dir:
        rep = province.read_report(Path(results_dir), period)
    else:
        pplan = load_province_plan(province_plan, plan)
        rep = province.province_report(province.load_province(Path(data_root), plan), plan, period, pplan)
    return plan, named(rep, commune_names(plan, rep, data_root, results_dir))


def commune_names(plan: Plan, rep: province.ProvinceReport, data_root: str | Path | None,
                  results_dir: str | Path | None) -> dict[str, str]:
    """Each commune folder's name as readers know it: from its package (`kpi run --packages`), else from the
    commune.yml of its folder, else the folder's own name; a name two communes share keeps its folder beside it."""
    import json

    names: dict[str, str] = {}
    note = Path(results_dir or "") / "packages.json"
    if results_dir and note.is_file():
        names = {str(u.get("commune_id")): str(u["commune"]) for u in json.loads(note.read_text(encoding="utf-8"))
                 .get("used", []) if u.get("commune_id") and u.get("commune")}
    codes = list(dict.fromkeys([*rep.communes["commune"].astype(str), *rep.not_reported["commune"].astype(str)]))
    for c in codes:
        folder = Path(data_root or "") / c
        if c not in names and data_root and folder.is_dir():
            names[c] = province.commune_plan(plan, folder).commune
    shown = {c: names.get(c) or c for c in codes}
    twice = {n for n in shown.values() if list(shown.values()).count(n) > 1}
    return {c: f"{n} ({c})" if n in twice and n != c else n for c, n in shown.items()}


def named(rep: province.ProvinceReport, names: dict[str, str]) -> province.ProvinceReport:
    """The report with each commune's name in place of its folder (every table, chart and ranking)."""
    from dataclasses import replace

    def rename(frame):
        return frame.assign(commune=frame["commune"].astype(str).map(lambda c: names.get(c, c))) if len(frame) else frame

    return replace(rep, communes=rename(rep.communes), not_reported=rename(rep.not_reported))


def packages_section(results_dir: str | Path | None, plan: Plan, lang: str = "vi") -> HTML:
    """With `kpi run --packages`: the packages rolled up (commune, revision, date), those that could not be
    and why, and the corrections the communes listed; nothing for the raw-data route."""
    import json

    note = Path(results_dir or "") / "packages.json"
    if not results_dir or not note.is_file():
        return HTML("")
    info = json.loads(note.read_text(encoding="utf-8"))
    w = WORDS[lang]["province"]["packages"]
    kinds = {i.id: i.kind for i in plan.indicators}

    def value(v, indicator: str) -> str:
        return formats.value(v if v is not None else float("nan"), kinds.get(indicator, "ratio"), lang)

    used = [{"commune": str(u["commune"]), "revision": u["revision"], "made_on": formats.date(u["made_on"] or "")}
            for u in info["used"]]
    corrections = [w["correction"].format(commune=c["commune"], m=periods.month_number(str(c["period"])),
                                          indicator=c["indicator"], old=value(c["old_value"], str(c["indicator"])),
                                          new=value(c["new_value"], str(c["indicator"])), file=c["file"],
                                          date=formats.date(c["submitted_on"] or ""))
                   for c in info["corrections"]]
    return HTML(render("report/province_packages.html.j2", w=w, used=used, problems=info["problems"],
                       corrections=corrections))


def _w(lang: str) -> dict:
    return WORDS[lang]["province"]


def _table(headers, rows, num_cols=(), cls="", nowrap=()) -> Markup:
    return render("report/table.html.j2", headers=headers, rows=rows, num_cols=num_cols, cls=cls, nowrap=nowrap)


def _titled(title: str, body, new_page: bool = False) -> HTML:
    return HTML(render("report/titled.html.j2", title=title, body=Markup(body), new_page=new_page))


def header(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Title, the roll-up rule and the province's indicators counted by status (badges, as the commune's)."""
    w = _w(lang)
    m, y = periods.month_number(rep.period), periods.year_of(rep.period)
    title = w["title"].format(m=m, m0=f"{m:02d}", y=y, n=rep.communes["commune"].nunique())
    counts = rep.scorecard["status"].value_counts()
    line = render("report/countline.html.j2", title=w["counts"], lang=lang,
                  counts=[(s, int(counts.get(s, 0))) for s in STATUSES])
    return HTML(render("report/province_header.html.j2", title=title, note=w["note"], countline=line,
                       page_css=page_css(rep.period, lang)))


def page_css(period: str, lang: str = "vi") -> Markup:
    """Print layout, as the commune's (views.print_css): the running header names the province roll-up and the
    month as the commune's names it ('Tháng 2/2026')."""
    month = WORDS[lang]["report"]["month"].format(m=periods.month_number(period), y=periods.year_of(period))
    return print_css(f"{WORDS[lang]['province_index']['report']} · {month}", lang)


GROUPS = {"on_target": ("achieved", "on_track"), "behind": ("behind", "missed"), "encouraged": ("encouraged",),
          "no_data": ("no_data",)}  # the summary's columns: how many communes stand where on each indicator


def status_summary(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Page 1: for each indicator, the province's value and status, then how many communes are on target (reached
    or on track), behind (behind or missed), encouraged only (no target) and without data."""
    w = _w(lang)
    kinds = {i.id: i.kind for i in plan.indicators}
    per = rep.communes.groupby(["indicator", "status"]).size()
    groups = [g for g in GROUPS if g != "encouraged" or (rep.communes["status"] == "encouraged").any()]
    rows = []
    for r in rep.scorecard.itertuples():
        got = per.get(r.indicator, {})
        counts = [str(sum(int(got.get(s, 0)) for s in GROUPS[g])) for g in groups]
        value = Markup(f"{formats.value(r.value, kinds[r.indicator], lang)} ") + badge(r.status, lang)
        rows.append([f"{r.indicator}. {r.name}", value, *counts])
    head = [w["summary_head"][0], w["summary_head"][1], *(w["groups"][g] for g in groups)]
    body = Markup(f"<p>{Markup.escape(w['summary_note'])}</p>") + _table(head, rows, num_cols=tuple(range(2, len(head))))
    return _titled(w["summary"], body)


def rollup_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Province value, target, status and communes reporting for every indicator (a new page in print)."""
    kinds = {i.id: i.kind for i in plan.indicators}
    card = rep.scorecard
    texts = (dict(zip(card["indicator"], card["target_text"])) if "target_text" in card
             else {i.id: i.target_text for i in plan.indicators})
    rows = [[r.indicator, r.name, formats.value(r.value, kinds[r.indicator], lang), str(texts[r.indicator]),
             badge(r.status, lang), f"{r.communes_reported}/{r.communes_expected}"]
            for r in card.itertuples()]
    w = _w(lang)
    body = Markup(f"<p>{Markup.escape(w['rule'])}</p>") + _table(w["rollup_head"], rows, num_cols=(2, 5))
    return _titled(w["rollup"], body, new_page=True)


def ranked_lists(g, top: int = TOP) -> tuple[list, list]:
    """The communes of one indicator, best first, as groups of equal rank: the top list takes whole groups from the
    top until it holds `top` communes, the bottom list whole groups from the bottom until it does, never a group
    the top list holds. So ties are never split and no commune is in both lists."""
    groups = [list(x.itertuples()) for _, x in g.sort_values(["rank", "commune"]).groupby("rank", sort=True)]
    best, worst = [], []
    for grp in groups:
        if sum(len(x) for x in best) >= top:
            break
        best.append(grp)
    for grp in reversed(groups[len(best):]):
        if sum(len(x) for x in worst) >= top:
            break
        worst.append(grp)
    return best, worst


def _rank_text(groups: list, kind: str, lang: str) -> str:
    tie = _w(lang)["tie"]
    parts = []
    for grp in groups:
        value = formats.value(grp[0].value, kind, lang)
        names = ", ".join(str(r.commune) for r in grp)
        parts.append(f"{int(grp[0].rank)}. {names} ({tie}, {value})" if len(grp) > 1 else f"{int(grp[0].rank)}. {names} ({value})")
    return "; ".join(parts) or "—"


def ranking_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Per indicator: the top and bottom communes by year-to-date value, ties named as such (ranked_lists)."""
    kinds = {i.id: i.kind for i in plan.indicators}
    ranked = rep.communes.dropna(subset=["rank"])
    order = {i.id: n for n, i in enumerate(plan.indicators)}
    rows = []
    for ind, g in sorted(ranked.groupby("indicator"), key=lambda kv: order[kv[0]]):
        best, worst = ranked_lists(g)
        rows.append([ind, _rank_text(best, kinds[ind], lang), _rank_text(worst, kinds[ind], lang), str(len(g))])
    head = [h.format(top=TOP) for h in _w(lang)["ranking_head"]]
    return _titled(_w(lang)["ranking"], _table(head, rows, num_cols=(3,)))


def status_grid(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> Chart:
    """Commune × indicator chart: each cell coloured and hatched by the commune's status for that indicator; on a
    phone, per indicator how many communes have each status, in words and as one bar."""
    ids = [i.id for i in plan.indicators]
    grid = rep.communes.pivot(index="commune", columns="indicator", values="status").reindex(columns=ids)
    n = len(grid)
    fig, ax = plt.subplots(figsize=(9.0, min(1.2 + 0.25 * n, 60)))
    cells, hatches = [], []
    for (i, j), s in np.ndenumerate(grid.fillna("no_data").to_numpy()):
        cells.append(ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=STATUS_COLORS[s], edgecolor="white",
                                            linewidth=1.5 if n <= 60 else 0)))
        hatches.append(STATUS_HATCHES[s] if n <= 60 else "")
    ax.set_xlim(-0.5, len(ids) - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks(range(len(ids)), ids)
    ax.set_yticks(range(n), grid.index if n <= 200 else [""] * n)
    ax.set_xlabel(_w(lang)["indicator"])
    ax.grid(False)
    ax.tick_params(length=0)
    ax.legend(handles=[Patch(facecolor=STATUS_COLORS[s], edgecolor="#333", hatch=STATUS_HATCHES[s],
                             label=STATUS_LABELS[lang][s]) for s in STATUSES],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    hatch_bars(ax, cells, hatches)
    plt.close(fig)
    return Chart(fig, _w(lang)["alt_grid"].format(n=n, k=len(ids)), "grid", _status_phone(plan, rep, lang))


def _status_phone(plan: Plan, rep: province.ProvinceReport, lang: str):
    """Per indicator, the communes by status: '3 Đạt · 1 Chậm tiến độ · 1 Chưa có số liệu', then one bar of
    segments (colour and hatching by status) as long as the number of communes."""
    per = rep.communes.groupby(["indicator", "status"]).size()
    n = rep.communes["commune"].nunique()
    names = {i.id: i.short for i in plan.indicators}
    rows = []
    for ind in (i.id for i in plan.indicators):
        got = per.get(ind, {})
        counts = [(s, int(got.get(s, 0))) for s in STATUSES if int(got.get(s, 0))]
        starts = np.cumsum([0] + [c for _, c in counts])
        rows.append(phone_charts.Row(f"{ind}. {names[ind]}", " · ".join(f"{c} {STATUS_LABELS[lang][s]}" for s, c in counts),
                                     [(float(a), float(c), STATUS_COLORS[s], STATUS_HATCHES[s])
                                      for a, (s, c) in zip(starts, counts)]))
    step = max(1, int(np.ceil(n / 5)))
    legend = [Patch(facecolor=STATUS_COLORS[s], edgecolor="#333", hatch=STATUS_HATCHES[s], label=STATUS_LABELS[lang][s])
              for s in STATUSES]
    return phone_charts.bar_list(rows, max(n, 1), _w(lang)["communes_axis"], list(range(0, n + 1, step)), legend)


def not_reported_table(rep: province.ProvinceReport, plan: Plan, lang: str = "vi") -> HTML:
    """Communes where some unit sent nothing for the month."""
    w = _w(lang)
    names = {u.code: u.short for u in plan.units}
    rows = [[r.commune, ", ".join(names[u] for u in r.missing_units.split(", "))] for r in rep.not_reported.itertuples()]
    table = _table(w["missing_head"], rows) if rows else ""
    return _titled(w["missing_title"], render("report/province_missing.html.j2", w=w, rows=rows, table=table))
