"""The official Báo cáo (Nghị định 30/2020/NĐ-CP, docs/rules.md §6) of a period, drafted as DOCX from the computed report.

The kit writes what the data knows; what only people write (I.1, IV, the number, a missing signer) is left as
marked places to fill (kpi.outputs.docx_form.placeholder). The period's words come from kpi.core.periods alone, so the
quarter, half-year and year reports (docs/rules.md §7) reuse this module unchanged."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from kpi.core import formats, periods
from kpi.core.i18n import STATUS_LABELS, target_words
from kpi.indicators import compute
from kpi.intake import notes as unit_notes
from kpi.outputs import docx_form as f
from kpi.outputs.docx_narrative import indicator_sentences

SUBJECT = "Kết quả thực hiện các chỉ tiêu về khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
DEFAULT_RECIPIENTS = ("Thường trực Đảng ủy xã (b/c)", "Thường trực HĐND xã (b/c)", "Chủ tịch, các Phó Chủ tịch UBND xã",
                      "Các phòng, Trung tâm thuộc UBND xã", "Lưu: VT, VHXH")
LATE_WORDS = {  # II.2: the units that did not send on time (kpi.indicators.compute.timeliness states)
    "late": "{unit} gửi báo cáo {period} muộn {days} ngày.",
    "missing": "{unit} chưa gửi báo cáo {period}.",
    "date_unknown": "{unit} gửi báo cáo {period} không ghi ngày gửi (không xác định được đúng hạn).",
    "unreadable": "{unit} gửi báo cáo {period} nhưng tệp không đọc được.",
}
LEFT_MM, RIGHT_MM = 62.0, 103.0  # heading block columns; together the 165 mm text width


def place_date(place: str, day: dt.date) -> str:
    """'Quảng Ngọc, ngày 05 tháng 12 năm 2026': a day below 10 and a month below 3 get a leading zero (NĐ 30)."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {d} tháng {m} năm {day.year}"


def comparison(row: pd.Series) -> str:
    """How the value stands against the target: percentage points above (+) or below (−) for a ratio, 'n/target'
    for a count."""
    if pd.isna(row["value"]) or pd.isna(row["target"]):
        return "—"
    if row["kind"] == "count":
        return f"{formats.number(row['value'])}/{formats.number(row['target'])}"
    gap = round(float(row["value"]) - float(row["target"]), 1)
    if gap == 0:
        return "Bằng chỉ tiêu"
    return ("+" if gap > 0 else "−") + formats.number(abs(gap), 1) + " điểm %"


def signer(plan) -> str:
    """The signer's name from the plan's `signed_by` ('Lê Văn Trường, Phó Chủ tịch UBND xã' -> the name)."""
    return (plan.signed_by or "").split(",")[0].strip()


def build_document(r, notes: pd.DataFrame | None = None):
    """The Báo cáo of report `r` (kpi.report.MonthReport, commune scope) as a python-docx Document."""
    notes = unit_notes.empty() if notes is None else notes
    doc = f.new_document()
    _heading(doc, r)
    _title(doc, r)
    _results(doc, r)
    _assessment(doc, r, notes)
    _tasks(doc, r, notes)
    heading = _head(doc, "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    proposals = f.para(doc, indent=True)
    f.placeholder(proposals, "[Chỗ cần điền: đề xuất, kiến nghị với cấp trên]")
    _signature(doc, r, lead_in=[heading, proposals])
    _annex(doc, r)
    core = doc.core_properties
    core.title = f"Báo cáo {SUBJECT.lower()} {periods.words(r.period)}"
    core.author = r.plan.commune_full or f"UBND xã {r.plan.commune}"
    core.language = "vi-VN"
    fixed = dt.datetime(r.made_on.year, r.made_on.month, r.made_on.day)
    core.created = core.modified = fixed  # the same inputs give the same document
    core.last_modified_by = "kpi"
    core.revision = 1
    return doc


def write_docx(r, target: str | Path, notes: pd.DataFrame | None = None) -> Path:
    """Write the Báo cáo to `target` (written beside under a hidden name, then renamed)."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.part")
    build_document(r, notes).save(tmp)
    tmp.replace(target)
    return target


def docx_name(period: str) -> str:
    return f"bao-cao-{period}.docx"


# --- the parts, in the order of the form ---------------------------------------------------------------

def _heading(doc, r) -> None:
    table = f.layout_table(doc, [LEFT_MM, RIGHT_MM])
    left, right = table.rows[0].cells
    f.para(left, "ỦY BAN NHÂN DÂN", size=f.HEAD_PT, bold=True, align="center", after=0)
    f.para(left, f"XÃ {r.plan.commune.upper()}", size=f.HEAD_PT, bold=True, align="center", after=0)
    f.rule(left, 18, LEFT_MM, in_cell=True)  # 2/5 of 'ỦY BAN NHÂN DÂN' (43 mm in Times New Roman 13 bold)
    number = f.para(left, "Số: ", size=f.NUMBER_PT, align="center", after=0)
    f.placeholder(number, "      ", size=f.NUMBER_PT)
    f.run(number, "/BC-UBND", size=f.NUMBER_PT)
    f.para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=f.HEAD_PT, bold=True, align="center", after=0)
    f.para(right, "Độc lập - Tự do - Hạnh phúc", size=f.BODY_PT, bold=True, align="center", after=0)
    f.rule(right, 61, RIGHT_MM, in_cell=True)  # as long as "Độc lập - Tự do - Hạnh phúc" in Times New Roman 14 bold
    f.para(right, place_date(r.plan.commune, r.made_on), size=f.BODY_PT, italic=True, align="center", after=0)


def _title(doc, r) -> None:
    f.para(doc, "", after=6)
    f.para(doc, "BÁO CÁO", bold=True, align="center", after=0)
    f.para(doc, f"{SUBJECT} {periods.words(r.period)}", bold=True, align="center", after=0)
    f.rule(doc, 40, f.TEXT_W.mm)
    f.para(doc, "", after=0)


def _counts_sentence(r) -> str:
    counts = compute.status_counts(r.scorecard).set_index("status")["plan"]
    total = int(counts.sum())
    words = [(s, STATUS_LABELS["vi"][s].lower()) for s in ("achieved", "on_track", "behind", "missed")]
    parts = [f"{int(counts[s])}/{total} chỉ tiêu {w}" for s, w in words]
    if counts["encouraged"]:
        parts.append(f"{int(counts['encouraged'])} chỉ tiêu khuyến khích")
    if counts["no_data"]:
        parts.append(f"{int(counts['no_data'])} chỉ tiêu chưa có số liệu")
    groups: dict[str, list[str]] = {}
    for ind in r.plan.indicators:
        groups.setdefault(ind.group, []).append(ind.id)
    rule = "; ".join(f"chỉ tiêu {g} chỉ đạt khi cả {len(ids)} chỉ tiêu thành phần {ids[0]}–{ids[-1]} đạt"
                     for g, ids in groups.items() if len(ids) > 1)
    absent = "; ".join(f"{i.id}. {i.short}" for i in r.plan.not_assigned)
    return (f"Đến hết {periods.words(r.period)}, trong {total} chỉ tiêu của Kế hoạch: " + ", ".join(parts)
            + (f" ({rule})" if rule else "") + (f". Chỉ tiêu không giao cho xã: {absent}" if absent else "")
            + f". Kết quả từng chỉ tiêu ({len(r.scorecard)} chỉ tiêu đo được) như sau:")


def _results(doc, r) -> None:
    _head(doc, f"I. KẾT QUẢ THỰC HIỆN {periods.words(r.period).upper()}")
    _head(doc, "1. Công tác lãnh đạo, chỉ đạo, tuyên truyền")
    f.placeholder(f.para(doc, indent=True), "[Chỗ cần điền: công tác lãnh đạo, chỉ đạo, tuyên truyền trong kỳ]")
    _head(doc, "2. Kết quả thực hiện các chỉ tiêu")
    f.para(doc, _counts_sentence(r), indent=True)
    headers = ["STT", "Chỉ tiêu", "Chỉ tiêu giao", "Kết quả (lũy kế)", "So với chỉ tiêu", "Đánh giá",
               "Đơn vị chủ trì"]
    rows = [[row.indicator, row["name"], target_words(row.target_text, row.target, row.kind),
             formats.value(row["value"], row["kind"], "vi"), comparison(row), STATUS_LABELS["vi"][row.status], r.plan.unit(row.lead).short]
            for _, row in r.scorecard.iterrows()]
    f.data_table(doc, headers, rows, [12, 46, 22, 18, 22, 21, 24], center_cols=(0, 2, 3, 4, 5))
    f.para(doc, "", after=0)


def _head(doc, text: str):
    """A section or item heading of the body, kept on the page of the line that follows it."""
    p = f.para(doc, text, bold=True, indent=True)
    p.paragraph_format.keep_with_next = True
    return p


def _line(doc, text: str) -> None:
    f.para(doc, f"- {text}", indent=True)


def _value_phrase(row) -> str:
    return f"{formats.value(row.value, row.kind, 'vi')} (chỉ tiêu {target_words(row.target_text, row.target, row.kind)})"


def _said(sentence: str, more: str) -> str:
    """An indicator's line: its value and status, then what moved and when it gets there (docx_narrative)."""
    return f"{sentence}; {more}." if more else f"{sentence}."


def _assessment(doc, r, notes: pd.DataFrame) -> None:
    _head(doc, "II. ĐÁNH GIÁ CHUNG")
    _head(doc, "1. Ưu điểm")
    card = r.scorecard
    moved = indicator_sentences(r)
    good = card[card["status"].isin(["achieved", "on_track"])]
    for _, row in good.iterrows():
        _line(doc, _said(f"Chỉ tiêu {row.indicator} ({row.short}): {_value_phrase(row)}, "
                         f"{STATUS_LABELS['vi'][row.status].lower()}", moved[row.indicator]))
    if good.empty:
        _line(doc, "Chưa có chỉ tiêu nào đạt hoặc đúng tiến độ.")
    for _, row in card[card["status"] == "encouraged"].iterrows():
        _line(doc, _said(f"Chỉ tiêu {row.indicator} ({row.short}, chỉ tiêu khuyến khích): "
                         f"{formats.value(row.value, row.kind, 'vi')}", moved[row.indicator]))
    t = r.timeliness
    on_time = t[t["status"] == "on_time"]
    if len(on_time):
        _line(doc, "Các đơn vị gửi báo cáo đúng hạn: " + ", ".join(on_time["unit_name"]) + ".")
    for note in unit_notes.of_field(notes, "highlights").itertuples(index=False):
        _line(doc, f"{r.plan.unit(note.unit).name}: {note.text}")
    _head(doc, "2. Tồn tại, hạn chế và nguyên nhân")
    bad = compute.urgent(card)
    for _, row in bad.iterrows():
        reason = unit_notes.reason(notes, row.indicator)
        why = f" Nguyên nhân, giải pháp ({r.plan.unit(row.lead).short}): {reason}" if reason else ""
        _line(doc, _said(f"Chỉ tiêu {row.indicator} ({row.short}): {_value_phrase(row)}, "
                         f"{STATUS_LABELS['vi'][row.status].lower()}", moved[row.indicator])
              + f" Đơn vị chủ trì: {r.plan.unit(row.lead).name}.{why}")
    if bad.empty:
        _line(doc, "Không có chỉ tiêu chậm tiến độ hay không đạt.")
    for _, row in card[card["status"] == "no_data"].iterrows():
        _line(doc, f"Chỉ tiêu {row.indicator} ({row.short}): chưa có số liệu; đơn vị chủ trì: "
                   f"{r.plan.unit(row.lead).name}.")
    for u in t[t["status"] != "on_time"].itertuples(index=False):
        days = int(u.days_late) if pd.notna(u.days_late) else 0
        _line(doc, LATE_WORDS[u.status].format(unit=u.unit_name, period=periods.words(r.period), days=days))


def _tasks(doc, r, notes: pd.DataFrame) -> None:
    _head(doc, f"III. NHIỆM VỤ TRỌNG TÂM {periods.next_words(r.period).upper()}")
    n = 0
    for _, row in compute.urgent(r.scorecard).iterrows():
        ind = r.plan.indicator(row.indicator)
        n += 1
        deadline = formats.date(row.deadline) if row.deadline else "thực hiện thường xuyên"
        _head(doc, f"{n}. Chỉ tiêu {ind.id}: {ind.name} (đơn vị chủ trì: {r.plan.unit(ind.lead).name}; "
                   f"thời hạn: {deadline})")
        for task in ind.tasks:
            _line(doc, task.rstrip(".;") + ".")
        reason = unit_notes.reason(notes, ind.id)
        if reason:
            _line(doc, f"Giải pháp của đơn vị: {reason}")
    planned = unit_notes.of_field(notes, "next_tasks")
    if len(planned):
        n += 1
        _head(doc, f"{n}. Nhiệm vụ các đơn vị đăng ký")
        for note in planned.itertuples(index=False):
            _line(doc, f"{r.plan.unit(note.unit).name}: {note.text}")
    soon = compute.upcoming(r.scorecard, periods.last_month(r.period))
    if len(soon):
        n += 1
        _head(doc, f"{n}. Chỉ tiêu đến hạn trong 60 ngày tới")
        for _, row in soon.iterrows():
            _line(doc, f"Chỉ tiêu {row.indicator} ({row.short}): hạn {formats.date(row.deadline)}, hiện đạt "
                       f"{_value_phrase(row)}; đơn vị chủ trì: {r.plan.unit(row.lead).name}.")
    if n == 0:
        _line(doc, "Duy trì kết quả các chỉ tiêu đã đạt.")


def _signature(doc, r, lead_in: list) -> None:
    """Nơi nhận and the signature in one borderless row that cannot split across pages, kept with the paragraphs
    that lead into it (`lead_in`, section IV; keep_with_next), so that KT. CHỦ TỊCH, PHÓ CHỦ TỊCH and the name
    stay together and never stand alone at the top of a page in Word, WPS or LibreOffice."""
    f.keep_together([*lead_in, f.para(doc, "", after=0)])
    table = f.layout_table(doc, [80, 85])
    f.cant_split(table.rows[0])
    left, right = table.rows[0].cells
    f.para(left, "Nơi nhận:", size=f.RECIPIENTS_HEAD_PT, bold=True, italic=True, align="left", after=0)
    recipients = list(getattr(r.plan, "report_recipients", ()) or DEFAULT_RECIPIENTS)
    for i, name in enumerate(recipients):
        end = "." if i == len(recipients) - 1 else ";"
        f.para(left, f"- {re.sub(r'[.;]+$', '', name)}{end}", size=f.RECIPIENTS_PT, align="left", after=0)
    f.para(right, "KT. CHỦ TỊCH", bold=True, align="center", after=0)
    f.para(right, "PHÓ CHỦ TỊCH", bold=True, align="center", after=0)
    for _ in range(4):  # the space for the signature and the seal
        f.para(right, "", align="center", after=0)
    name = f.para(right, align="center", after=0)
    if signer(r.plan):
        f.run(name, signer(r.plan), bold=True)
    else:
        f.placeholder(name, "[Họ và tên người ký]")
    for cell in (left, right):  # within the row as well, for a suite that lets a row split anyway
        f.keep_together(cell.paragraphs[:-1])
        f.keep_together(cell.paragraphs[-1:], with_next=False)


def _annex(doc, r) -> None:
    """Phụ lục: each village-level ratio indicator per village (%), on a new page."""
    villages = r.villages
    if villages is None or villages.empty:
        return
    ids = list(dict.fromkeys(villages["indicator"]))
    p = f.para(doc, "PHỤ LỤC", bold=True, align="center", after=0)
    p.paragraph_format.page_break_before = True
    attached = f.para(doc, "(Kèm theo Báo cáo số ", italic=True, align="center", after=0)
    f.placeholder(attached, "      ")
    f.run(attached, f"/BC-UBND ngày {formats.date(r.made_on)} của UBND xã {r.plan.commune})", italic=True)
    f.para(doc, f"Kết quả các chỉ tiêu theo thôn đến hết {periods.words(r.period)} (%)", bold=True, align="center")
    table = villages.pivot_table(index="village", columns="indicator", values="value", aggfunc="first", dropna=False)
    table = table.reindex(index=r.plan.village_names, columns=ids)
    headers = ["Thôn"] + [f"CT {i}" for i in ids]
    rows = [[village] + [formats.number(v, 1) for v in table.loc[village]] for village in table.index]
    width = (f.TEXT_W.mm - 22) / len(ids)
    f.data_table(doc, headers, rows, [22] + [width] * len(ids), size=f.SMALL_TABLE_PT,
                 center_cols=tuple(range(1, len(ids) + 1)))
    names = "; ".join(f"CT {i}: {r.plan.indicator(i).short}" for i in ids)
    f.para(doc, f"Ghi chú: {names}. Dấu — : thôn chưa có đủ số liệu.", size=f.SMALL_TABLE_PT + 1, italic=True)


def for_batch(period: str, data_dir: str, plan_path: str, made_on: str, out: Path) -> Path:
    """The batch's hook (kpi.run.job.run_report, commune report): rebuild the period's report from the data the
    batch validated (its cache in the output folder) and write bao-cao-<P>.docx beside commune.html."""
    from kpi import report

    out = Path(out)
    r = report.build(period, "commune", data_dir, plan_path, "vi", made_on or None, output_dir=out)
    return write_docx(r, out / docx_name(period), r.notes)
