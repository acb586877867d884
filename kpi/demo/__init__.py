"""A synthetic, clearly marked data set for one commune of any plan: its villages, about 30,000 people,
January..November of the plan's year."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from kpi.core import paths, safety
from kpi.plan.model import Plan

LAST_MONTH = 11
MARK = "DỮ LIỆU GIẢ LẬP (synthetic) — chỉ dùng để thử bộ công cụ, không phải số liệu thật."

# Commune-wide share of the base population at January and November for each village-level numerator;
# villages scatter around it, a few lag behind (so the village chart has something to show).
VILLAGE_RATES = {
    "pop_4g5g": ("pop_total", 0.86, 0.93),
    "adult_digital_health": ("pop_adult", 0.60, 0.835),
    "adult_digital_education": ("pop_adult", 0.50, 0.71),
    "adult_digital_insurance": ("pop_adult", 0.62, 0.815),
    "adult_digital_transport": ("pop_adult", 0.40, 0.62),
    "bank_account_15plus": ("pop_15plus", 0.62, 0.855),
    "vneid_accounts": ("pop_14plus", 0.55, 0.715),
    "adult_digital_signature": ("pop_adult", 0.12, 0.33),
}
# each village-month's share scatters around its line by this much (a standard deviation): real counts wobble,
# but a wobble of 0.5 % of a village's population made a few months look like jumps (W_JUMP) nobody meant
LEVEL_NOISE = 0.0025
# vneid_level2 is a share of the total population; ehealth_books is never supplied (Trạm Y tế has not sent it).
NOT_SUPPLIED = {"ehealth_books"}


def _village_base(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    n = len(plan.villages)
    pop = rng.integers(850, 1450, n)
    pop = np.round(pop * 30_000 / pop.sum()).astype(int)
    base = pd.DataFrame({"village": plan.village_names, "pop_total": pop})
    base["pop_adult"] = np.round(pop * rng.uniform(0.73, 0.77, n)).astype(int)
    base["pop_15plus"] = base["pop_adult"] + np.round(pop * rng.uniform(0.045, 0.06, n)).astype(int)
    base["pop_14plus"] = base["pop_15plus"] + np.round(pop * rng.uniform(0.012, 0.018, n)).astype(int)
    base["lag"] = rng.normal(0, 0.03, n)
    base.loc[rng.choice(n, 3, replace=False), "lag"] -= 0.12  # three villages clearly behind
    return base


def _village_rows(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    base = _village_base(plan, rng)
    months = np.arange(1, LAST_MONTH + 1)
    grid = base.merge(pd.DataFrame({"month": months}), how="cross")
    growth = 1 + 0.0008 * (grid["month"] - 1)  # population creeps up month by month
    for col in ("pop_total", "pop_adult", "pop_15plus", "pop_14plus"):
        grid[col] = np.round(grid[col] * growth).astype(int)
    t = (grid["month"] - 1) / (LAST_MONTH - 1)
    for element, (denominator, start, end) in VILLAGE_RATES.items():
        # a village's lag in proportion to where the element starts: a low start (digital signatures at 12 %) with
        # the full lag would sit on the 2 % floor for months and then take off, which reads as a jump
        lag = grid["lag"] * min(1.0, start / 0.5)
        rate = np.clip(start + (end - start) * t + lag + LEVEL_NOISE * rng.normal(0, 1, len(grid)), 0.02, 0.99)
        grid[element] = np.floor(grid[denominator] * rate).astype(int)
    grid["vneid_level2"] = np.floor(grid["pop_total"] * np.clip(0.45 + 0.2 * t + grid["lag"] / 2, 0, 0.95)).astype(int)
    elements = [e.code for e in plan.elements if e.level == "village" and e.code not in NOT_SUPPLIED]
    long = grid.melt(id_vars=["village", "month"], value_vars=elements, var_name="element", value_name="value")
    return long


def _village(plan: Plan, n: int) -> str:
    """The plan's n-th village (1-based, wrapping round a short list): the demo's mistakes and gaps fall on
    villages by position, so a plan whose villages are called 'Xóm Đông' or 'Tổ dân phố 3' gets them too."""
    return plan.villages[(n - 1) % len(plan.villages)].name


def _commune_rows(rng: np.random.Generator) -> pd.DataFrame:
    m = np.arange(1, LAST_MONTH + 1)
    records_total = rng.integers(380, 520, len(m))
    records_dvc = np.round(records_total * rng.uniform(0.62, 0.7, len(m))).astype(int)
    payments_total = rng.integers(110, 160, len(m))
    cols = {
        "officials_total": np.full(len(m), 31),
        "officials_trained": np.minimum(np.array([18, 19, 21, 23, 25, 26, 27, 28, 28, 29, 29]), 31)[: len(m)],
        "st_enterprises": np.where(m >= 6, 1, 0),
        "enterprises_total": 40 + (m >= 4) + (m >= 9),
        "enterprises_innovating": np.array([3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7])[: len(m)],
        "startups_new": np.isin(m, [4, 9]).astype(int),
        "ip_applications_new": (m == 10).astype(int),
        "sme_digital": np.array([15, 15, 16, 17, 18, 19, 19, 20, 21, 22, 23])[: len(m)],
        "records_total": records_total,
        "records_digitized": np.floor(records_total * rng.uniform(0.975, 0.995, len(m))).astype(int),
        "records_dvc_total": records_dvc,
        "records_online": np.floor(records_dvc * np.linspace(0.84, 0.9, len(m))).astype(int),
        "payments_total": payments_total,
        "payments_online": np.floor(payments_total * np.linspace(0.68, 0.77, len(m))).astype(int),
        "satisfaction_points": np.round(np.linspace(18.6, 19.3, len(m)), 1),
    }
    frame = pd.DataFrame({"month": m, **cols})
    long = frame.melt(id_vars="month", var_name="element", value_name="value")
    return long.assign(village="")


# The sample is the commune's folder as on 5 December: every unit has sent November by then (before the 10th),
# so no report date lies after the day anyone runs the kit on it.
DAYS = {"vhxh": 6, "kt": 8, "ttpvhcc": 5, "ca": 9}
LAST_DAYS = {"vhxh": 4, "kt": 5, "ttpvhcc": 5, "ca": 5}
FIRST_SEND_DAY = 3  # TT PVHCC's first November file; its corrected file (ttpvhcc_v2.csv) follows on LAST_DAYS
LATE = {("ca", 10): 14, ("vhxh", 3): 12}  # Công an sent October 4 days late, VHXH March 2 days late


def _submission_day(unit: str, month: int, plan_year: int) -> dt.date:
    """Units send before the 10th of the next month, except the LATE ones."""
    year, nxt = (plan_year, month + 1) if month < 12 else (plan_year + 1, 1)
    day = LATE.get((unit, month), (LAST_DAYS if month == LAST_MONTH else DAYS).get(unit, 7))
    return dt.date(year, nxt, day)


def demo_frame(plan: Plan, seed: int = 2026) -> pd.DataFrame:
    """The synthetic long data: every unit-month except Phòng Kinh tế's July (never sent), with a few village
    rows missing (VHXH forgot Thôn 7 and Thôn 19 in November; Công an left out Thôn 22 in October); each row
    dated as its file was sent (_submission_day)."""
    rng = np.random.default_rng(seed)
    rows = pd.concat([_village_rows(plan, rng), _commune_rows(rng)], ignore_index=True)
    owner = {e.code: e.unit for e in plan.elements}
    rows = rows[rows["element"].isin(owner)]  # a plan without some of the sample's elements
    rows["unit"] = rows["element"].map(owner)
    rows["period"] = rows["month"].map(lambda m: f"{plan.year}-{m:02d}")
    drop = ((rows["unit"] == "kt") & (rows["month"] == 7)) \
        | ((rows["unit"] == "vhxh") & (rows["month"] == 11) & rows["village"].isin([_village(plan, 7), _village(plan, 19)])
           & rows["element"].isin(["adult_digital_signature", "bank_account_15plus"])) \
        | ((rows["unit"] == "ca") & (rows["month"] == 10) & (rows["village"] == _village(plan, 22)))
    rows = rows[~drop]
    rows["submitted_on"] = [_submission_day(u, m, plan.year).isoformat() for u, m in zip(rows["unit"], rows["month"])]
    order = {e.code: n for n, e in enumerate(plan.elements)}
    village_order = {v: n for n, v in enumerate([""] + plan.village_names)}
    rows = rows.assign(_e=rows["element"].map(order), _v=rows["village"].map(village_order))
    rows = rows.sort_values(["period", "unit", "_e", "_v"])
    return rows[["period", "unit", "village", "element", "value", "submitted_on"]].reset_index(drop=True)


def _fmt_value(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


# How each unit sends its file, as officers really do: VHXH and Công an fill the kit's Excel template; Phòng Kinh
# tế saves a CSV from Vietnamese Windows Excel (cp1258, ';', Vietnamese headers); TT PVHCC exports CSV UTF-8
# with BOM, dates as dd/mm/yyyy and a decimal comma. Công an's November file is a CSV export instead.
SENDS = {"vhxh": "template", "ca": "template", "kt": "csv_cp1258", "ttpvhcc": "csv_utf8_bom"}
VN_HEADER = ["Kỳ báo cáo", "Đơn vị", "Thôn", "Mã số liệu", "Giá trị", "Ngày báo cáo"]


def encode_cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows Excel saves it: cp1258 has some precomposed letters (ô, ơ, à...) and five
    combining tone marks; a letter it lacks (ộ, ỳ) is written as a letter it has plus a tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tone = next(m for m in parts if m in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", parts.replace(tone, "", 1))
        out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def _village_codes(plan: Plan) -> dict[str, str]:
    return {v.name: v.code for v in plan.villages}


def _write_template(target: Path, part: pd.DataFrame, plan: Plan, unit: str, period: str) -> None:
    from kpi.intake.template import build_template, data_sheet, input_cells

    wb = build_template(plan, unit, period)
    ws = data_sheet(wb)
    cells = input_cells(ws)
    codes = _village_codes(plan)
    for village, element, value in zip(part["village"], part["element"], part["value"]):
        ws[cells[(codes.get(village, ""), element)]] = int(value) if float(value).is_integer() else float(value)
    ws["C4"] = dt.date.fromisoformat(part["submitted_on"].iloc[0])
    safety.save_workbook(wb, target)


def _november_mistakes(part: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Công an's November CSV, typed by hand with the mistakes real files carry (see data/sample/README.md):
    Thôn 7 spelled 'thôn 07' and Thôn 12 '  THÔN  12 ' (both matched to the plan), one population written
    with a thousands dot ('1.234', read as 1234), a negative value and a text value (both rejected), a cell
    sent twice with different values (the later row counts), and a row for a hamlet the plan does not know
    (rejected)."""
    part = part.copy()
    v7, v12 = _village(plan, 7), _village(plan, 12)
    part.loc[part["village"] == v7, "village"] = _misspelt(v7)
    part.loc[part["village"] == v12, "village"] = "  " + v12.upper().replace(" ", "  ") + " "
    def cell(element: str, n: int | None = None):
        """The first row of an element (in the plan's n-th village), or None where the plan has no such row."""
        rows = part["element"] == element
        if n is not None:
            rows &= part["village"] == _village(plan, n)
        return part.index[rows][0] if rows.any() else None

    big = part.index[(part["element"] == "pop_total") & (part["value"].astype(float) >= 1000)]
    if len(big):
        v = int(float(part.at[big[0], "value"]))
        part.at[big[0], "value"] = f"{v // 1000}.{v % 1000:03d}"
    if (neg := cell("adult_digital_transport", 3)) is not None:
        part.at[neg, "value"] = "-" + part.at[neg, "value"]
    if (txt := cell("vneid_accounts", 5)) is not None:
        part.at[txt, "value"] = "chưa tổng hợp"
    first = cell("pop_adult", 10)
    if first is None:
        return part
    dup = part.loc[[first]]
    wrong = dup.assign(value=str(int(float(dup["value"].iloc[0])) + 100))
    extra = part.loc[[first]].assign(village="Thôn Đông Hải", element="vneid_level2", value="412")
    part = pd.concat([part.loc[:first - 1], wrong, part.loc[first:], extra])
    return part


def _misspelt(name: str) -> str:
    """A village name as typed in a hurry: lower case, a number with a leading zero ('Thôn 7' -> 'thôn 07')."""
    import re

    return re.sub(r"\b(\d)\b", r"0\1", name.lower())


def _write_bom_csv(target: Path, part: pd.DataFrame) -> None:
    """TT PVHCC's export: CSV UTF-8 with BOM, dates as dd/mm/yyyy, a decimal comma."""
    rows = part.assign(value=part["value"].str.replace(".", ",", regex=False),
                       submitted_on=pd.to_datetime(part["submitted_on"]).dt.strftime("%d/%m/%Y"))
    target.write_text(rows.to_csv(index=False, lineterminator="\r\n"), encoding="utf-8-sig")


def _early_tally(part: pd.DataFrame, plan_year: int) -> pd.DataFrame:
    """TT PVHCC's first November file (see data/sample/README.md): sent on the 3rd with the online records and
    payments counted two days early (12 and 5 fewer); ttpvhcc_v2.csv of the 5th corrects them (W_REVISED)."""
    early = {"records_online": 12, "payments_online": 5}
    value = [_fmt_value(float(v) - early.get(e, 0)) for e, v in zip(part["element"], part["value"])]
    day = _submission_day("ttpvhcc", LAST_MONTH, plan_year).replace(day=FIRST_SEND_DAY).isoformat()
    return part.assign(value=value, submitted_on=day)


def write_demo(out: str | Path, plan: Plan, seed: int = 2026) -> list[Path]:
    """The demo data set (see _write_demo), written beside <out> first and moved in whole: a failure leaves
    <out> as it was."""
    out = Path(out)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=out, prefix=".demo-") as tmp:
            files = _write_demo(Path(tmp), plan, seed)
            folder = paths.submissions_dir(out)
            if folder.is_dir():
                for old in folder.rglob("*"):
                    if old.is_file() and old.suffix.lower() in (".csv", ".xlsx"):
                        old.unlink()
            written = []
            for f in files:
                target = out / f.relative_to(tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(f, target)
                written.append(target)
            shutil.move(Path(tmp) / "README.md", out / "README.md")
            return written
    except BaseException:
        if made:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _write_demo(out: Path, plan: Plan, seed: int) -> list[Path]:
    """Write <out>/submissions/<period>/<file> in the forms units really send (SENDS), with a few realistic
    mistakes in the latest month, and a README marking the data synthetic."""
    out = Path(out)
    frame = demo_frame(plan, seed)
    frame["value"] = frame["value"].map(_fmt_value)
    written = []
    folder = paths.submissions_dir(out)
    last = f"{plan.year}-{LAST_MONTH:02d}"
    for (period, unit), part in frame.groupby(["period", "unit"], sort=True):
        how = SENDS.get(unit, "template")
        if (unit, period) == ("ca", last):
            how = "csv_ca_mistakes"
        target = folder / period / (f"{unit}.xlsx" if how == "template" else f"{unit}.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        if how == "template":
            if (unit, period) == ("vhxh", last):  # 4G/5G coverage of Thôn 15 typed from an old list: a sharp fall
                fall = (part["element"] == "pop_4g5g") & (part["village"] == _village(plan, 15))
                part = part.assign(value=part["value"].where(
                    ~fall, part["value"].map(lambda v: _fmt_value(round(float(v) * 0.6)))))
            _write_template(target, part, plan, unit, period)
        elif how == "csv_cp1258":
            rows = part.copy()
            if period == last:  # a row of TT PVHCC's pasted into Kinh tế's file by mistake
                rows = pd.concat([rows, rows.iloc[[0]].assign(element="records_total", value="455")])
            text = rows.to_csv(index=False, sep=";", header=VN_HEADER, lineterminator="\r\n")
            target.write_bytes(encode_cp1258(text))
        elif how == "csv_utf8_bom":
            if period == last:  # sent on the 3rd with two figures from an early tally, corrected on the 5th
                _write_bom_csv(target, _early_tally(part, plan.year))
                target = target.with_name(f"{unit}_v2.csv")
                written.append(target.with_name(f"{unit}.csv"))
            _write_bom_csv(target, part)
        else:
            rows = _november_mistakes(part, plan)
            target.write_text(rows.to_csv(index=False, header=VN_HEADER, lineterminator="\n"), encoding="utf-8-sig")
        written.append(target)
    resent = int((frame["unit"].eq("ttpvhcc") & frame["period"].eq(last)).sum()) - 2  # see _early_tally
    (out / "README.md").write_text(_readme(plan, seed, resent), encoding="utf-8")
    return written


def _readme(plan: Plan, seed: int, resent: int) -> str:
    """The sample's README: synthetic, how each unit sends, and every problem put in on purpose, which are all
    that `kpi validate` reports on the untouched sample (tests/test_demo.py checks both lists agree)."""
    m, y = LAST_MONTH, plan.year

    def v(n: int) -> str:
        return _village(plan, n)

    return (
        f"# {MARK}\n\nSinh bởi `kpi demo-data --seed {seed}`: xã {plan.commune}, {len(plan.villages)} thôn, "
        f"tháng 1–{m}/{y}. Thư mục như của xã vào ngày {_submission_day('ca', m, y):%d/%m/%Y}: cả bốn đơn vị đã gửi số "
        f"liệu tháng {m} trước hạn, nên không ngày báo cáo nào ở sau ngày chạy.\n\n"
        "Cách các đơn vị gửi: Phòng Văn hóa - Xã hội và Công an xã điền mẫu Excel của bộ công cụ (`kpi template`); "
        "Phòng Kinh tế gửi CSV lưu từ Excel tiếng Việt (bảng mã cp1258, dấu chấm phẩy); Trung tâm Phục vụ hành "
        "chính công gửi CSV UTF-8 có BOM, ngày dạng ngày/tháng/năm, số thập phân dùng dấu phẩy.\n\n"
        "Các vấn đề cố ý (để mục Chất lượng số liệu có nội dung); `kpi validate` trên mẫu chưa sửa chỉ báo đúng các "
        "vấn đề này:\n\n"
        f"- Gửi muộn: Công an xã gửi tháng 10 ngày {_submission_day('ca', 10, y):%d/%m/%Y} (muộn 4 ngày), Phòng Văn hóa - "
        f"Xã hội gửi tháng 3 ngày {_submission_day('vhxh', 3, y):%d/%m/%Y} (muộn 2 ngày). Không gửi: Phòng Kinh tế, "
        "tháng 7.\n"
        f"- Thôn bỏ trống (W_VILLAGE_MISSING): Công an xã bỏ trống {v(22)} tháng 10; Phòng Văn hóa - Xã hội bỏ trống "
        f"{v(7)} và {v(19)} ở hai số liệu tháng {m}.\n"
        f"- Công an xã gửi tháng {m} bằng CSV gõ tay: '{_misspelt(v(7))}', '  {v(12).upper().replace(' ', '  ')} ' và "
        "một số có dấu chấm hàng nghìn "
        "(1.234) vẫn được đọc đúng; một số âm (E_VALUE_NEGATIVE), một ô chữ (E_VALUE_NOT_NUMBER), một ô gửi hai lần "
        "với hai giá trị khác nhau (E_DUPLICATE) và một thôn không có trong kế hoạch (E_VILLAGE_UNKNOWN) bị loại.\n"
        f"- Phòng Kinh tế dán nhầm một dòng số liệu của Trung tâm PVHCC vào tệp tháng {m} (E_FILE_OTHER_UNIT).\n"
        f"- Phòng Văn hóa - Xã hội ghi dân số vùng phủ sóng 4G/5G của {v(15)} thấp hơn tháng trước 40% (W_STOCK_FALL, "
        "dòng vẫn được tính).\n"
        f"- Bản sửa: Trung tâm PVHCC gửi ttpvhcc.csv ngày {FIRST_SEND_DAY:02d}/12/{y} rồi gửi lại ttpvhcc_v2.csv ngày "
        f"{_submission_day('ttpvhcc', m, y):%d/%m/%Y}: 2 giá trị được sửa (W_REVISED: hồ sơ DVC trực tuyến và hồ sơ "
        f"thanh toán trực tuyến) và {resent} giá trị gửi lại không đổi (một dòng W_RESENT_SAME).\n\n"
        f"Synthetic data made by `kpi demo-data --seed {seed}`; not real figures.\n")
