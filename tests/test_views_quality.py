"""The report's data-quality section comes from the validation result and renders with a broken file."""

from __future__ import annotations

import shutil

from kpi import report
from kpi.report import views
from tests.conftest import FILES


def _month(tmp_path):
    sub = tmp_path / "submissions"
    (sub / "2026-11").mkdir(parents=True)
    (sub / "2026-10").mkdir(parents=True)
    shutil.copy(FILES / "broken.xlsx", sub / "2026-11" / "vhxh.xlsx")  # VHXH's file cannot be opened
    shutil.copy(FILES / "combo.csv", sub / "2026-11" / "ca.csv")  # sent 2026-12-08 / 12-09
    shutil.copy(FILES / "template_points.xlsx", sub / "2026-11" / "ttpvhcc.xlsx")  # sent 2026-12-06
    (sub / "2026-10" / "ca.csv").write_text(  # another month: not in this report
        "period,unit,village,element,value,submitted_on\n2026-10,ca,Thôn 1,pop_total,-5,2026-11-08\n", encoding="utf-8")
    return tmp_path


def test_broken_month_renders_quality(tmp_path):
    r = report.build("2026-11", "commune", data_dir=_month(tmp_path), made_on="2026-12-15")
    html = views.data_quality(r).data
    assert "Chất lượng số liệu" in html
    # ca: first date 2026-12-08 -> on time; ttpvhcc 2026-12-06 on time; kt missing; vhxh sent a file that
    # cannot be opened: it did send ("đã gửi nhưng không đọc được"), it is not "Chưa gửi".
    assert html.count("Đúng hạn") == 2 and html.count("Chưa gửi") == 1
    assert html.count("Đã gửi nhưng không đọc được") + html.count("đã gửi nhưng không đọc được") == 1
    # 3 files; rows read 6 + 0 + 3 = 9, accepted 2 + 0 + 2 = 4, rejected 4 + 0 + 1 = 5;
    # errors: combo 4 (its 2026-02-30 date is now a warning, W_DATE_INVALID) + E_FILE_UNREADABLE 1 + numerator
    # above denominator 1 = 6; warnings: that date, and Công an sent pop_total for Thôn 5, 6, 8, 9 only
    # (Thôn 7's element is unknown): 26 - 4 = 22 W_VILLAGE_MISSING; 1 + 22 = 23.
    assert "Tháng 11: 3 tệp, đọc 9 dòng, nhận 4, loại 5; 6 lỗi, 23 cảnh báo." in html
    assert "E_FILE_UNREADABLE" in html and "E_NUMERATOR_ABOVE_DENOMINATOR" in html
    # grouped by kind and file: the ratio error of TT PVHCC's template, with its place in the summary line
    assert ("<span class='kind'> Tử số lớn hơn mẫu số</span><span> · </span><span class='pfile'>2026-11/ttpvhcc.xlsx"
            "</span><span class='pcount'> · 1 chỗ</span><span class='pplaces'> · trang &#x27;Số liệu&#x27;, "
            "dòng 8, cột C</span>") in html
    # the 22 villages Công an left out are one group: its count, its first three villages, 5 of its messages
    # and the 22 - 5 = 17 others left to `kpi validate`
    assert ("<span class='kind'> Thôn chưa có số liệu</span><span> · </span><span class='pfile'>2026-11/ca.csv</span>"
            "<span class='pcount'> · 22 chỗ</span><span class='pplaces'> · đầu tiên: Thôn 1; Thôn 2; Thôn 3; …</span>"
            ) in html
    assert html.count("thiếu số liệu Tổng dân số") == 5 and "… và 17 chỗ khác" in html
    # each village's fix names the village: the group shows the first one's, and says so
    assert "<strong>Cách sửa (chỗ đầu tiên):</strong> Điền số liệu của Thôn 1 vào mẫu biểu" in html
    assert "<strong>Cách sửa:</strong> Số liệu phải lớn hơn hoặc bằng 0." in html  # E_VALUE_NEGATIVE, one fix
    # 6 errors in 6 groups (one per kind and file) and 23 warnings in 2 (the date, the villages)
    assert html.count("<details class='fold pgroup'>") == 8 and html.count("sev sev-error") == 6
    assert "2026-10/ca.csv" not in html
    # completeness: Thôn 5 and Thôn 9 pop_total accepted for November -> 2/26
    assert "2/26" in html


def test_unit_report_keeps_its_own_files(tmp_path):
    r = report.build("2026-11", "ca", data_dir=_month(tmp_path), made_on="2026-12-15")
    html = views.data_quality(r).data
    assert "2026-11/ca.csv" in html and "vhxh.xlsx" not in html and "ttpvhcc.xlsx" not in html


def test_corrections_and_refused_template_show_in_the_quality_section(tmp_path):
    sub = tmp_path / "submissions"
    for folder, name, lines in (
            ("2026-11", "ca.csv", ["2026-11,ca,Thôn 1,pop_total,1200,2026-12-08", "2026-11,ca,Thôn 2,pop_total,950,2026-12-08"]),
            ("2026-11", "ca_sua.csv", ["2026-11,ca,Thôn 1,pop_total,1210,2026-12-12",
                                       "2026-11,ca,Thôn 2,pop_total,950,2026-12-12"]),
            ("2026-12", "ca.csv", ["2026-11,ca,Thôn 1,pop_total,1300,2027-01-07"])):
        (sub / folder).mkdir(parents=True, exist_ok=True)
        (sub / folder / name).write_text("period,unit,village,element,value,submitted_on\n" + "\n".join(lines) + "\n",
                                         encoding="utf-8")
    nov = views.data_quality(report.build("2026-11", "commune", data_dir=tmp_path, made_on="2027-01-15")).data
    # the one replaced value: both files with their report dates, the rule, then old 1.200 and new 1.210
    assert "<h3>Số liệu được sửa (bản gửi sau thay bản gửi trước)</h3>" in nov
    assert ("2026-11/ca_sua.csv (ngày báo cáo 12/12/2026) sửa 1 giá trị của 2026-11/ca.csv (ngày báo cáo 08/12/2026)"
            in nov)
    assert "Bản gửi sau được dùng vì có ngày báo cáo muộn hơn." in nov
    assert ('<td data-label="Kỳ">2026-11</td><td data-label="Số liệu">Tổng dân số</td><td data-label="Thôn/xã">'
            'Thôn 1</td><td class="num" data-label="Giá trị cũ">1.200</td><td class="num" data-label="Giá trị mới">'
            '1.210</td>') in nov
    assert nov.count("<tr><td data-label=\"Kỳ\">") == 1  # Thôn 2 was sent again unchanged: not a correction
    # ... but one line for the file that sent it again
    assert ("<span class='kind'> Gửi lại giá trị không đổi</span><span> · </span><span class='pfile'>2026-11/ca_sua.csv"
            "</span><span class='pcount'> · 1 chỗ</span>") in nov
    dec = views.data_quality(report.build("2026-12", "commune", data_dir=tmp_path, made_on="2027-01-15")).data
    assert "E_PERIOD_FOLDER_MISMATCH" in dec and "dùng lại mẫu tháng trước?" in dec


def test_a_corrected_earlier_month_is_listed_in_the_later_months_report(tmp_path):
    """Công an re-sends October as ca_v2.csv on 20/11 (two values changed, one unchanged): November's report,
    whose year to date holds October, lists both corrections; September's, before it, does not."""
    sub = tmp_path / "submissions"
    head = "period,unit,village,element,value,submitted_on\n"
    files = {"2026-10/ca.csv": ["2026-10,ca,Thôn 1,pop_total,1200,2026-11-09", "2026-10,ca,Thôn 2,pop_total,950,2026-11-09",
                                "2026-10,ca,Thôn 3,pop_total,870,2026-11-09"],
             "2026-10/ca_v2.csv": ["2026-10,ca,Thôn 1,pop_total,1207,2026-11-20", "2026-10,ca,Thôn 2,pop_total,950,2026-11-20",
                                   "2026-10,ca,Thôn 3,pop_total,1.870,2026-11-20"],
             "2026-11/ca.csv": ["2026-11,ca,Thôn 1,pop_total,1210,2026-12-08"],
             "2026-09/ca.csv": ["2026-09,ca,Thôn 1,pop_total,1190,2026-10-08"]}
    for name, lines in files.items():
        (sub / name).parent.mkdir(parents=True, exist_ok=True)
        (sub / name).write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    nov = views.data_quality(report.build("2026-11", "commune", data_dir=tmp_path, made_on="2026-12-15")).data
    assert ("2026-10/ca_v2.csv (ngày báo cáo 20/11/2026) sửa 2 giá trị của 2026-10/ca.csv (ngày báo cáo 09/11/2026)"
            in nov)
    cells = '<td data-label="Kỳ">{}</td><td data-label="Số liệu">Tổng dân số</td><td data-label="Thôn/xã">{}</td>' \
            '<td class="num" data-label="Giá trị cũ">{}</td><td class="num" data-label="Giá trị mới">{}</td>'
    assert cells.format("2026-10", "Thôn 1", "1.200", "1.207") in nov
    assert cells.format("2026-10", "Thôn 3", "870", "1.870") in nov
    assert "Thôn 2</td>" not in nov  # sent again unchanged
    sep = views.data_quality(report.build("2026-09", "commune", data_dir=tmp_path, made_on="2026-12-15")).data
    assert "Số liệu được sửa" not in sep and "ca_v2.csv" not in sep


def test_every_kind_of_problem_has_a_short_name_in_each_language():
    """The reports head each group of problems with its kind's short name (kpi/core/words_vi.py, words_en.py
    'problem_kinds'): a code added to kpi.core.problems.CATALOG needs one in both tables."""
    from kpi.core.i18n import WORDS
    from kpi.core.problems import CATALOG

    for lang in ("vi", "en"):
        kinds = WORDS[lang]["problem_kinds"]
        assert set(CATALOG) - set(kinds) == set(), f"add a short name to words_{lang}.py problem_kinds"
        assert all(kinds[c].strip() for c in CATALOG)
