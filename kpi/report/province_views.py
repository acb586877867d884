"""What the province report shows: roll-up table, ranking, commune × indicator status chart, communes missing."""

from __future__ import annotations

from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from kpi import province  # noqa: E402
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES, date_text  # noqa: E402
from kpi.plan import Plan, load_plan  # noqa: E402
from kpi.report.charts import Chart  # noqa: E402

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
                   f"<td>{escape(date_text(u['made_on'] or ''))}</td></tr>" for u in info["used"])
    parts.append(f"<p>{len(info['used'])} {'gói được tổng hợp' if vi else 'packages rolled up'}:</p>"
                 f"<table><tr><th>{'Xã' if vi else 'Commune'}</th><th>{'Lần công bố' if vi else 'Revision'}</th>"
                 f"<th>{'Ngày lập' if vi else 'Made on'}</th></tr>{rows}</table>")
    if info["problems"]:
        parts.append(f"<p>{'Gói không được tổng hợp' if vi else 'Packages not rolled up'} ({len(info['problems'])}):</p>"
                     "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in info["problems"]) + "</ul>")
    if info["corrections"]:
        items = "".join(
            f"<li>{escape(str(c['commune']))}: tháng {int(str(c['period'])[5:7])}, chỉ tiêu {escape(str(c['indicator']))}"
            f" {_fmt(c['old_value'] if c['old_value'] is not None else float('nan'), kinds.get(str(c['indicator']), 'ratio'))} → "
            f"{_fmt(c['new_value'] if c['new_value'] is not None else float('nan'), kinds.get(str(c['indicator']), 'ratio'))}"
            f" (tệp {escape(str(c['file']))}, gửi ngày {escape(date_text(c['submitted_on'] or ''))})</li>"
            for c in info["corrections"])
        parts.append(f"<p>{'Số liệu các xã đã điều chỉnh so với lần công bố trước' if vi else 'Corrections'}:</p>"
                     f"<ul>{items}</ul>")
    return HTML("".join(parts))


def _fmt(v: float, kind: str) -> str:
    if pd.isna(v):
        return "—"
    return f"{v:,.0f}".replace(",", ".") if kind == "count" else f"{v:.1f}".replace(".", ",") + "%"


def header(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    y, m = rep.period.split("-")
    n = rep.communes["commune"].nunique()
    title = (f"Báo cáo tổng hợp cấp tỉnh tháng {int(m)}/{y}: chỉ tiêu KHCN, ĐMST và chuyển đổi số của {n} xã"
             if lang == "vi" else f"Province roll-up {m}/{y}: {n} communes")
    note = ("Mỗi chỉ tiêu tỷ lệ được tổng hợp bằng tổng tử số chia tổng mẫu số của các xã có số liệu "
            "(không lấy trung bình tỷ lệ của các xã)." if lang == "vi" else
            "Each ratio is the sum of numerators over the sum of denominators of the reporting communes.")
    return HTML(f"<h1>{escape(title)}</h1><p>{escape(note)}</p>")


def rollup_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Province value, target, status and communes reporting for every indicator."""
    kinds = {i.id: i.kind for i in plan.indicators}
    card = rep.scorecard
    texts = (dict(zip(card["indicator"], card["target_text"])) if "target_text" in card
             else {i.id: i.target_text for i in plan.indicators})
    head = (["Chỉ tiêu", "Tên", "Giá trị toàn tỉnh", "Chỉ tiêu của tỉnh", "Trạng thái", "Số xã có số liệu"]
            if lang == "vi" else ["Indicator", "Name", "Province value", "Province target", "Status",
                                  "Communes reporting"])
    rows = "".join(
        f"<tr><td>{escape(r.indicator)}</td><td>{escape(r.name)}</td><td>{_fmt(r.value, kinds[r.indicator])}</td>"
        f"<td>{escape(str(texts[r.indicator]))}</td><td>{escape(STATUS_LABELS[lang][r.status])}</td>"
        f"<td>{r.communes_reported}/{r.communes_expected}</td></tr>" for r in card.itertuples())
    rule = ("<p>Chỉ tiêu của tỉnh: chỉ tiêu đếm (4, 6, 7) bằng tổng chỉ tiêu của các xã có số liệu (chỉ tiêu 7: 2 đơn "
            "mỗi xã), chỉ tiêu tỷ lệ bằng chỉ tiêu giao cho xã, trừ khi kế hoạch của tỉnh ghi số khác (ghi rõ trong "
            "cột).</p>" if lang == "vi" else "<p>Province targets: a count's is the sum of the reporting communes' "
            "targets, a ratio's is the commune target, unless the province plan sets one (said in the column).</p>")
    return HTML(f"{rule}<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{rows}</table>")


def ranking_table(plan: Plan, rep: province.ProvinceReport, lang: str = "vi") -> HTML:
    """Per indicator: the top and bottom communes by year-to-date value."""
    kinds = {i.id: i.kind for i in plan.indicators}
    ranked = rep.communes.dropna(subset=["rank"]).sort_values(["indicator", "rank", "commune"])
    order = {i.id: n for n, i in enumerate(plan.indicators)}
    rows = []
    for ind, g in sorted(ranked.groupby("indicator"), key=lambda kv: order[kv[0]]):
        best = ", ".join(f"{int(r.rank)}. {r.commune} ({_fmt(r.value, kinds[ind])})" for r in g.head(TOP).itertuples())
        worst = ", ".join(f"{int(r.rank)}. {r.commune} ({_fmt(r.value, kinds[ind])})"
                          for r in g.tail(TOP).iloc[::-1].itertuples()) if len(g) > TOP else ""
        rows.append(f"<tr><td>{escape(ind)}</td><td>{escape(best)}</td><td>{escape(worst)}</td><td>{len(g)}</td></tr>")
    head = (["Chỉ tiêu", f"{TOP} xã dẫn đầu", f"{TOP} xã cuối bảng", "Số xã được xếp hạng"] if lang == "vi"
            else ["Indicator", f"Top {TOP}", f"Bottom {TOP}", "Communes ranked"])
    return HTML(f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows)}</table>")


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
    ax.set_xlabel("Chỉ tiêu" if lang == "vi" else "Indicator")
    ax.set_xticks(np.arange(-0.5, len(ids)), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="major", visible=False)
    ax.grid(which="minor", color="white", linewidth=1.5 if n <= 60 else 0)
    ax.tick_params(which="minor", length=0)
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[lang][s]) for s in STATUSES],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    alt = (f"Biểu đồ trạng thái: {n} xã × {len(ids)} chỉ tiêu, mỗi ô tô màu theo trạng thái của xã ở chỉ tiêu đó."
           if lang == "vi" else f"Status grid: {n} communes × {len(ids)} indicators, each cell coloured by the "
           "commune's status for that indicator.")
    return Chart(fig, alt)


def not_reported_table(rep: province.ProvinceReport, plan: Plan, lang: str = "vi") -> HTML:
    """Communes where some unit sent nothing for the month."""
    nr = rep.not_reported
    if nr.empty:
        return HTML("<p>Tất cả các xã đã gửi đủ số liệu.</p>" if lang == "vi" else "<p>Every commune reported.</p>")
    names = {u.code: u.short for u in plan.units}
    rows = "".join(f"<tr><td>{escape(r.commune)}</td><td>"
                   f"{escape(', '.join(names[u] for u in r.missing_units.split(', ')))}</td></tr>"
                   for r in nr.itertuples())
    head = ("<tr><th>Xã</th><th>Đơn vị chưa gửi số liệu tháng này</th></tr>" if lang == "vi"
            else "<tr><th>Commune</th><th>Units missing</th></tr>")
    return HTML(f"<p>{len(nr)} xã chưa gửi đủ:</p><table>{head}{rows}</table>")
