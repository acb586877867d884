"""What the province report shows: roll-up table, ranking, commune × indicator status chart, communes missing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from IPython.display import HTML  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from kpi import province  # noqa: E402
from kpi.core import formats, periods  # noqa: E402
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES, WORDS  # noqa: E402
from kpi.plan import Plan, load_plan  # noqa: E402
from kpi.report.charts import Chart  # noqa: E402
from kpi.report.templates import render  # noqa: E402

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
        return plan, province.read_report(Path(results_dir), period)
    pplan = load_province_plan(province_plan, plan)
    return plan, province.province_report(province.load_province(Path(data_root), plan), plan, period, pplan)


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


def header(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    w = WORDS[lang]["province"]
    m, y = periods.month_number(rep.period), periods.year_of(rep.period)
    title = w["title"].format(m=m, m0=f"{m:02d}", y=y, n=rep.communes["commune"].nunique())
    return HTML(render("report/province_header.html.j2", title=title, note=w["note"]))


def rollup_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Province value, target, status and communes reporting for every indicator."""
    kinds = {i.id: i.kind for i in plan.indicators}
    card = rep.scorecard
    texts = (dict(zip(card["indicator"], card["target_text"])) if "target_text" in card
             else {i.id: i.target_text for i in plan.indicators})
    rows = [[r.indicator, r.name, formats.value(r.value, kinds[r.indicator], lang), str(texts[r.indicator]),
             STATUS_LABELS[lang][r.status], f"{r.communes_reported}/{r.communes_expected}"]
            for r in card.itertuples()]
    return HTML(render("report/province_table.html.j2", rule=WORDS[lang]["province"]["rule"],
                       head=WORDS[lang]["province"]["rollup_head"], rows=rows))


def ranking_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Per indicator: the top and bottom communes by year-to-date value."""
    kinds = {i.id: i.kind for i in plan.indicators}
    ranked = rep.communes.dropna(subset=["rank"]).sort_values(["indicator", "rank", "commune"])
    order = {i.id: n for n, i in enumerate(plan.indicators)}
    rows = []
    for ind, g in sorted(ranked.groupby("indicator"), key=lambda kv: order[kv[0]]):
        best = ", ".join(f"{int(r.rank)}. {r.commune} ({formats.value(r.value, kinds[ind], lang)})"
                         for r in g.head(TOP).itertuples())
        worst = ", ".join(f"{int(r.rank)}. {r.commune} ({formats.value(r.value, kinds[ind], lang)})"
                          for r in g.tail(TOP).iloc[::-1].itertuples()) if len(g) > TOP else ""
        rows.append([ind, best, worst, str(len(g))])
    head = [h.format(top=TOP) for h in WORDS[lang]["province"]["ranking_head"]]
    return HTML(render("report/province_table.html.j2", head=head, rows=rows))


def status_grid(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> Chart:
    """Commune × indicator chart: each cell coloured by the commune's status for that indicator."""
    codes = {s: n for n, s in enumerate(STATUSES)}
    ids = [i.id for i in plan.indicators]
    grid = (rep.communes.assign(code=rep.communes["status"].map(codes))
            .pivot(index="commune", columns="indicator", values="code").reindex(columns=ids))
    n = len(grid)
    fig, ax = plt.subplots(figsize=(9.0, min(1.2 + 0.25 * n, 60)))
    ax.imshow(grid.to_numpy(dtype=float), aspect="auto", interpolation="nearest",
              cmap=ListedColormap([STATUS_COLORS[s] for s in STATUSES]), vmin=-0.5, vmax=len(STATUSES) - 0.5)
    ax.set_xticks(range(len(ids)), ids)
    ax.set_yticks(range(n), grid.index if n <= 200 else [""] * n)
    ax.set_xlabel(WORDS[lang]["province"]["indicator"])
    ax.set_xticks(np.arange(-0.5, len(ids)), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="major", visible=False)
    ax.grid(which="minor", color="white", linewidth=1.5 if n <= 60 else 0)
    ax.tick_params(which="minor", length=0)
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[lang][s]) for s in STATUSES],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return Chart(fig, WORDS[lang]["province"]["alt_grid"].format(n=n, k=len(ids)))


def not_reported_table(rep: province.ProvinceReport, plan: Plan, lang: str = "vi") -> HTML:
    """Communes where some unit sent nothing for the month."""
    w = WORDS[lang]["province"]
    names = {u.code: u.short for u in plan.units}
    rows = [[r.commune, ", ".join(names[u] for u in r.missing_units.split(", "))] for r in rep.not_reported.itertuples()]
    table = render("report/province_table.html.j2", head=w["missing_head"], rows=rows) if rows else ""
    return HTML(render("report/province_missing.html.j2", w=w, rows=rows, table=table))
