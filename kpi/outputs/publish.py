"""What a period folder shares: index.html linking every report and table, and one zip to send over chat."""

from __future__ import annotations

import datetime as dt
import zipfile
from html import escape
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from kpi.core import paths, periods
from kpi.core.files import write_atomic
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES, date_text
from kpi.indicators import compute
from kpi.plan import Plan

# Files of a period folder that leadership may receive; executed notebooks and error logs stay behind.
SHARED_SUFFIXES = (".html", ".pdf", ".docx")
SHARED_TABLES = ("scorecard.xlsx", "scorecard.csv")

WORDS = {
    "vi": {"title": "Báo cáo chỉ tiêu KHCN, ĐMST và CĐS xã {c}, {p}", "made": "Lập ngày {d}",
           "counts": "Toàn xã: số chỉ tiêu theo trạng thái", "status": "Trạng thái",
           "plan": "16 chỉ tiêu kế hoạch", "measured": "19 chỉ số đo", "reports": "Các báo cáo",
           "report": "Báo cáo", "files": "Tệp", "state": "Tình trạng", "made_ok": "Đã tạo",
           "no_pdf": "chưa có PDF", "tables": "Bảng tổng hợp chỉ tiêu", "commune": "Toàn xã {c}",
           "xlsx": "Excel (scorecard.xlsx)", "csv": "CSV (scorecard.csv)",
           "offline": "Mở được không cần mạng: giữ các tệp trong cùng một thư mục.",
           "failed": "Chưa tạo được báo cáo này. Cán bộ tổng hợp xem nhật ký {log}, sửa theo hướng dẫn trong đó "
                     "rồi chạy lại lệnh kpi run cho kỳ này."},
    "en": {"title": "KPI reports, {c} commune, {p}", "made": "Made on {d}",
           "counts": "Whole commune: indicators by status", "status": "Status",
           "plan": "16 plan indicators", "measured": "19 measured", "reports": "Reports",
           "report": "Report", "files": "Files", "state": "State", "made_ok": "Made", "no_pdf": "no PDF",
           "tables": "Scorecard tables", "commune": "{c} commune", "xlsx": "Excel (scorecard.xlsx)",
           "csv": "CSV (scorecard.csv)", "offline": "Works offline: keep the files together in one folder.",
           "failed": "This report could not be made. The analyst should read the log {log}, fix what it says and "
                     "run kpi run again for this period."},
}

INDEX_CSS = (paths.TEMPLATES_DIR / "index.css").read_text(encoding="utf-8")  # phone first, like the reports


def _page(lang: str, title: str, made_on, made_words: str, body: str, footer: str) -> str:
    """An index page: one self-contained HTML file (its CSS inline), the title, the date made, the body, the
    footer line."""
    made = dt.date.fromisoformat(made_on) if isinstance(made_on, str) and made_on else (made_on or dt.date.today())
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{INDEX_CSS}</style></head><body>
<h1>{escape(title)}</h1>
<p class="muted">{escape(made_words.format(d=date_text(made)))}</p>
{body}
<p class="muted">{escape(footer)}</p>
</body></html>
"""


def _badge(status: str, lang: str) -> str:
    text_color = "#fff" if status in ("achieved", "missed") else "#000"
    return (f'<span class="badge" style="background:{STATUS_COLORS[status]};color:{text_color}">'
            f"{escape(STATUS_LABELS[lang][status])}</span>")


def write_index(plan: Plan, period: str, card: pd.DataFrame, reports: list, target: Path, lang: str = "vi",
                made_on: dt.date | str | None = None) -> Path:
    """index.html for the period: the commune's status counts (16 plan indicators, 19 measured) and relative
    links to every report's HTML and PDF and to the scorecard tables, so it works from a folder or an
    unpacked zip with no network. `reports` are this run's batch.ReportResult-like (unit, files, error); reports
    made earlier for the same period (another unit's run) are listed too when their files are there."""
    w = WORDS[lang]
    out = Path(target).parent
    title = w["title"].format(c=plan.commune, p=periods.label(period, lang))
    counts = compute.status_counts(card).set_index("status")
    count_rows = "".join(
        f"<tr><td>{_badge(s, lang)}</td><td class='num'>{int(counts.at[s, 'plan'])}</td>"
        f"<td class='num'>{int(counts.at[s, 'measured'])}</td></tr>"
        for s in STATUSES if counts.at[s, "plan"] or counts.at[s, "measured"])
    names = {"commune": w["commune"].format(c=plan.commune), **{u.code: u.name for u in plan.units}}
    rows = []
    # Every report of the period that exists, whether made by this run or by an earlier one for another unit.
    this_run = {r.unit: r for r in reports}
    for unit in dict.fromkeys(["commune", *plan.unit_codes, *this_run]):
        files = getattr(this_run.get(unit), "files", {}) or {}
        paths = [Path(files.get(fmt) or out / f"{unit}.{fmt}") for fmt in ("html", "pdf")]
        if unit == "commune":  # the Báo cáo to finish in Word (kpi.outputs.docx_report)
            paths.append(Path(files.get("docx") or out / f"bao-cao-{period}.docx"))
        links = [f'<a href="{escape(p.name)}">{p.suffix[1:].upper()}</a>' for p in paths if p.exists()]
        if unit not in this_run and not links:
            continue
        error = getattr(this_run.get(unit), "error", "")
        # leadership reads this page: a sentence and where the log is, never the exception's text
        log = getattr(this_run.get(unit), "log", None) or out / "logs" / f"{unit}.log"
        log_text = _relative(log, out) if Path(log).is_absolute() else str(log)
        state = (f"<span class='err'>{escape(w['failed'].format(log=Path(log_text).as_posix()))}</span>" if error else escape(w["made_ok"])
                 + ("" if any(">PDF<" in x for x in links) else f" ({escape(w['no_pdf'])})"))
        rows.append(f"<tr><td>{escape(names.get(unit, unit))}</td><td>{' · '.join(links)}</td>"
                    f"<td>{state}</td></tr>")
    tables = [f'<li><a href="{escape(name)}">{escape(w[name.rsplit(".", 1)[1]])}</a></li>'
              for name in SHARED_TABLES if (out / name).exists()]
    body = f"""<h2>{escape(w["counts"])}</h2>
<table><thead><tr><th>{escape(w["status"])}</th><th>{escape(w["plan"])}</th><th>{escape(w["measured"])}</th></tr></thead>
<tbody>{count_rows}</tbody></table>
<h2>{escape(w["reports"])}</h2>
<table><thead><tr><th>{escape(w["report"])}</th><th>{escape(w["files"])}</th><th>{escape(w["state"])}</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>{escape(w["tables"])}</h2><ul>{"".join(tables)}</ul>"""
    write_atomic(Path(target), _page(lang, title, made_on, w["made"], body, w["offline"]))
    return Path(target)


PROVINCE_WORDS = {
    "vi": {"title": "Báo cáo tổng hợp cấp tỉnh tháng {m}/{y}: {n} xã", "province": "Báo cáo toàn tỉnh",
           "report": "Báo cáo tổng hợp cấp tỉnh", "tables": "Bảng tổng hợp", "scorecard": "Chỉ tiêu toàn tỉnh (CSV)",
           "communes_csv": "Từng xã × chỉ tiêu (CSV)", "communes": "Báo cáo của từng xã", "commune": "Xã",
           "page": "Trang của xã", "files": "Báo cáo toàn xã", "state": "Tình trạng", "ok": "Đã tạo {n} báo cáo",
           "failed": "{k} báo cáo lỗi: {units}", "none": "chưa có báo cáo", "made": "Lập ngày {d}",
           "offline": "Mở được không cần mạng: giữ nguyên thư mục kết quả (các xã nằm cạnh thư mục province)."},
    "en": {"title": "Province roll-up {m}/{y}: {n} communes", "province": "Province report",
           "report": "Province roll-up", "tables": "Tables", "scorecard": "Province indicators (CSV)",
           "communes_csv": "Commune × indicator (CSV)", "communes": "Each commune's reports", "commune": "Commune",
           "page": "Commune page", "files": "Whole-commune report", "state": "State", "ok": "{n} reports made",
           "failed": "{k} failed: {units}", "none": "no report yet", "made": "Made on {d}",
           "offline": "Works offline: keep the output folder as it is (communes beside the province folder)."},
}


def write_province_index(period: str, communes: list[tuple[str, Path, list]], province_dir: Path,
                         lang: str = "vi", made_on: dt.date | str | None = None,
                         states: dict[str, str] | None = None) -> Path:
    """<out>/province/<P>/index.html: the province report and tables, then one row per commune with relative
    links to its own index page and whole-commune report (<out>/<commune>/<P>/) and the state of its reports.
    `communes`: (name shown, the commune's period folder, that run's batch.ReportResult-like list); `states`:
    a commune's state in words instead (the packages route: which package was rolled up)."""
    w = PROVINCE_WORDS[lang]
    out = Path(province_dir)
    y, m = period.split("-")
    title = w["title"].format(m=int(m), y=y, n=len(communes))

    def link(path: Path, text: str) -> str:
        href = quote(Path(_relative(path, out)).as_posix(), safe="/")  # a folder named "xã #2" still links
        return f'<a href="{escape(href)}">{escape(text)}</a>' if path.exists() else ""

    own = [x for x in (link(out / "province.html", "HTML"), link(out / "province.pdf", "PDF")) if x]
    tables = [x for x in (link(out / "province_scorecard.csv", w["scorecard"]),
                          link(out / "communes.csv", w["communes_csv"])) if x]
    rows = []
    for name, folder, reports in communes:
        failed = [r for r in reports if getattr(r, "error", "")]
        made_n = sum(1 for r in reports if not getattr(r, "error", ""))
        state = (f"<span class='err'>{escape(w['failed'].format(k=len(failed), units=', '.join(r.unit for r in failed)))}</span>"
                 if failed else escape(w["ok"].format(n=made_n)) if made_n else escape(w["none"]))
        if states and name in states:
            state = escape(states[name])
        files = " · ".join(x for x in (link(folder / "commune.html", "HTML"), link(folder / "commune.pdf", "PDF")) if x)
        rows.append(f"<tr><td>{escape(name)}</td><td>{link(folder / 'index.html', w['page'])}</td><td>{files}</td>"
                    f"<td>{state}</td></tr>")
    body = f"""<h2>{escape(w["province"])}</h2>
<p>{escape(w["report"])}: {" · ".join(own)}</p>
<h2>{escape(w["tables"])}</h2><ul>{"".join(f"<li>{t}</li>" for t in tables)}</ul>
<h2>{escape(w["communes"])}</h2>
<table><thead><tr><th>{escape(w["commune"])}</th><th>{escape(w["page"])}</th><th>{escape(w["files"])}</th>
<th>{escape(w["state"])}</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>"""
    target = out / "index.html"
    write_atomic(target, _page(lang, title, made_on, w["made"], body, w["offline"]))
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
    tmp = out_dir / f".{target.name}.part"
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in shared_files(out_dir):
                zf.write(path, arcname=f"bao-cao-{period}/{path.name}")
            package = out_dir / "package"
            if (package / "datapackage.json").is_file():  # the data package for the province, as its own folder
                for path in sorted(p for p in package.iterdir() if p.is_file() and not p.name.startswith(".")):
                    zf.write(path, arcname=f"bao-cao-{period}/package/{path.name}")
        tmp.replace(target)
    except BaseException:  # a full disk or Ctrl-C: no half zip under any name, the old one untouched
        tmp.unlink(missing_ok=True)
        raise
    return target
