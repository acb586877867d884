"""What a period folder shares: index.html linking every report and table, and one zip to send over chat."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from kpi.core import periods
from kpi.core.files import write_atomic
from kpi.core import formats
from kpi.core.i18n import STATUSES, WORDS
from kpi.indicators import compute
from kpi.plan.model import Plan
from kpi.report.templates import render, stylesheet

# Files of a period folder that leadership may receive; executed notebooks and error logs stay behind.
SHARED_SUFFIXES = (".html", ".pdf", ".docx")
SHARED_TABLES = ("scorecard.xlsx", "scorecard.csv")

INDEX_CSS = Markup(stylesheet("index.css"))  # phone first, like the reports


def _page(template: str, lang: str, made_on, w: dict, **context) -> str:
    """An index page from its template (kpi/templates/index/): one self-contained HTML file, its CSS inline."""
    made = dt.date.fromisoformat(made_on) if isinstance(made_on, str) and made_on else (made_on or periods.run_day())
    return render(template, lang=lang, css=INDEX_CSS, w=w, made=w["made"].format(d=formats.date(made)),
                  **context) + "\n"


def write_index(plan: Plan, period: str, card: pd.DataFrame, reports: list, target: Path, lang: str = "vi",
                made_on: dt.date | str | None = None) -> Path:
    """index.html for the period: the commune's status counts (the plan's indicators and the measured ones) and relative
    links to every report's HTML and PDF and to the scorecard tables, so it works from a folder or an
    unpacked zip with no network. `reports` are this run's kpi.run.summary.ReportResult-like (unit, files, error); reports
    made earlier for the same period (another unit's run) are listed too when their files are there."""
    w = WORDS[lang]["index"]
    out = Path(target).parent
    title = w["title"].format(c=plan.commune, p=periods.label(period, lang))
    counts = compute.status_counts(card).set_index("status")
    count_rows = [(s, int(counts.at[s, "plan"]), int(counts.at[s, "measured"]))
                  for s in STATUSES if counts.at[s, "plan"] or counts.at[s, "measured"]]
    names = {"commune": w["commune"].format(c=plan.commune), **{u.code: u.name for u in plan.units}}
    rows = []
    # Every report of the period that exists, whether made by this run or by an earlier one for another unit.
    this_run = {r.unit: r for r in reports}
    for unit in dict.fromkeys(["commune", *plan.unit_codes, *this_run]):
        files = getattr(this_run.get(unit), "files", {}) or {}
        paths = [Path(files.get(fmt) or out / f"{unit}.{fmt}") for fmt in ("html", "pdf")]
        if unit == "commune":  # the Báo cáo to finish in Word (kpi.outputs.docx_report)
            paths.append(Path(files.get("docx") or out / f"bao-cao-{period}.docx"))
        links = [(p.name, p.suffix[1:].upper()) for p in paths if p.exists()]
        if unit not in this_run and not links:
            continue
        error = getattr(this_run.get(unit), "error", "")
        # leadership reads this page: a sentence and where the log is, never the exception's text
        log = getattr(this_run.get(unit), "log", None) or out / "logs" / f"{unit}.log"
        log_text = _relative(log, out) if Path(log).is_absolute() else str(log)
        rows.append({"name": names.get(unit, unit), "links": links,
                     "failed": w["failed"].format(log=Path(log_text).as_posix()) if error else "",
                     "pdf": any(text == "PDF" for _, text in links)})
    tables = [(name, w[name.rsplit(".", 1)[1]]) for name in SHARED_TABLES if (out / name).exists()]
    w = {**w, "plan": w["plan"].format(n=plan.group_count), "measured": w["measured"].format(n=plan.measure_count)}
    not_assigned = w["not_assigned"].format(items="; ".join(f"{i.id}. {i.short}" for i in plan.not_assigned)) \
        if plan.not_assigned else ""
    write_atomic(Path(target), _page("index/commune.html.j2", lang, made_on, w, title=title, counts=count_rows,
                                     reports=rows, tables=tables, not_assigned=not_assigned))
    return Path(target)


def write_province_index(period: str, communes: list[tuple[str, Path, list]], province_dir: Path,
                         lang: str = "vi", made_on: dt.date | str | None = None,
                         states: dict[str, str] | None = None) -> Path:
    """<out>/province/<P>/index.html: the province report and tables, then one row per commune with relative
    links to its own index page and whole-commune report (<out>/<commune>/<P>/) and the state of its reports.
    `communes`: (name shown, the commune's period folder, that run's kpi.run.summary.ReportResult-like list);
    `states`: a commune's state in words instead (the packages route: which package was rolled up)."""
    w = WORDS[lang]["province_index"]
    out = Path(province_dir)
    title = w["title"].format(m=periods.month_number(period), y=periods.year_of(period), n=len(communes))

    def link(path: Path, text: str) -> list[tuple[str, str]]:
        href = quote(Path(_relative(path, out)).as_posix(), safe="/")  # a folder named "xã #2" still links
        return [(href, text)] if path.exists() else []

    own = link(out / "province.html", "HTML") + link(out / "province.pdf", "PDF")
    tables = link(out / "province_scorecard.csv", w["scorecard"]) + link(out / "communes.csv", w["communes_csv"])
    rows = []
    for name, folder, reports in communes:
        failed = [r for r in reports if getattr(r, "error", "")]
        made_n = sum(1 for r in reports if not getattr(r, "error", ""))
        rows.append({"name": name, "page": link(folder / "index.html", w["page"]),
                     "files": link(folder / "commune.html", "HTML") + link(folder / "commune.pdf", "PDF"),
                     "failed": w["failed"].format(k=len(failed), units=", ".join(r.unit for r in failed)) if failed
                     else "", "state": w["ok"].format(n=made_n) if made_n else w["none"]})
        if states and name in states:
            rows[-1].update(failed="", state=states[name])
    target = out / "index.html"
    write_atomic(target, _page("index/province.html.j2", lang, made_on, w, title=title, own=own, tables=tables,
                               communes=rows))
    return target


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(Path(path).resolve(), Path(start).resolve())


def shared_files(out_dir: Path) -> list[Path]:
    """The period folder's files to share: every report's HTML and PDF, index.html and the scorecard tables;
    never the executed notebooks, error logs, half-written or hidden files."""
    out_dir = Path(out_dir)
    files = [p for p in sorted(out_dir.iterdir()) if p.is_file() and not p.name.startswith(".")
             and (p.suffix in SHARED_SUFFIXES or p.name in SHARED_TABLES)]
    return files


def write_zip(out_dir: Path, period: str) -> Path:
    """<out>/<P>/bao-cao-<P>.zip with the shared files in one folder, so unpacking gives a working index.html."""
    out_dir = Path(out_dir)
    target = out_dir / f"bao-cao-{period}.zip"
    buf = io.BytesIO()  # a few MB at most: built whole in memory, then written under its name at once
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in shared_files(out_dir):
            zf.write(path, arcname=f"bao-cao-{period}/{path.name}")
        package = out_dir / "package"
        if (package / "datapackage.json").is_file():  # the data package for the province, as its own folder
            for path in sorted(p for p in package.iterdir() if p.is_file() and not p.name.startswith(".")):
                zf.write(path, arcname=f"bao-cao-{period}/package/{path.name}")
    write_atomic(target, buf.getvalue())
    return target
