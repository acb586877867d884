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
from html import escape  # noqa: E402
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
    vi = lang == "vi"
    kinds = {i.id: i.kind for i in plan.indicators}
    parts = [f"<h2>{'Các gói số liệu của xã' if vi else 'Commune data packages'}</h2>"]
    rows = "".join(f"<tr><td>{escape(str(u['commune']))}</td><td>{u['revision']}</td>"
                   f"<td>{escape(formats.date(u['made_on'] or ''))}</td></tr>" for u in info["used"])
    parts.append(f"<p>{len(info['used'])} {'gói được tổng hợp' if vi else 'packages rolled up'}:</p>"
                 f"<table><tr><th>{'Xã' if vi else 'Commune'}</th><th>{'Lần công bố' if vi else 'Revision'}</th>"
                 f"<th>{'Ngày lập' if vi else 'Made on'}</th></tr>{rows}</table>")
    if info["problems"]:
        parts.append(f"<p>{'Gói không được tổng hợp' if vi else 'Packages not rolled up'} ({len(info['problems'])}):</p>"
                     "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in info["problems"]) + "</ul>")
    if info["corrections"]:
        items = "".join(
            f"<li>{escape(str(c['commune']))}: tháng {periods.month_number(str(c['period']))}, chỉ tiêu {escape(str(c['indicator']))}"
            f" {formats.value(c['old_value'] if c['old_value'] is not None else float('nan'), kinds.get(str(c['indicator']), 'ratio'), lang)} → "
            f"{formats.value(c['new_value'] if c['new_value'] is not None else float('nan'), kinds.get(str(c['indicator']), 'ratio'), lang)}"
            f" (tệp {escape(str(c['file']))}, gửi ngày {escape(formats.date(c['submitted_on'] or ''))})</li>"
            for c in info["corrections"])
        parts.append(f"<p>{'Số liệu các xã đã điều chỉnh so với lần công bố trước' if vi else 'Corrections'}:</p>"
                     f"<ul>{items}</ul>")
    return HTML("".join(parts))


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
    rule = ("Chỉ tiêu của tỉnh: chỉ tiêu đếm (4, 6, 7) bằng tổng chỉ tiêu của các xã có số liệu (chỉ tiêu 7: 2 đơn "
            "mỗi xã), chỉ tiêu tỷ lệ bằng chỉ tiêu giao cho xã, trừ khi kế hoạch của tỉnh ghi số khác (ghi rõ trong "
            "cột)." if lang == "vi" else "Province targets: a count's is the sum of the reporting communes' "
            "targets, a ratio's is the commune target, unless the province plan sets one (said in the column).")
    return HTML(f"<p>{escape(rule)}</p>" + str(render("report/province_table.html.j2",
                                                       head=WORDS[lang]["province"]["rollup_head"], rows=rows)))


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
