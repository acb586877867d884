"""Data problems: a stable code, a place (file, sheet, row, column) and a Vietnamese message that says how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a frame or a missing cell is handled
    import pandas as pd

ERROR = "error"
WARNING = "warning"

# problems that leave a unit's file unread: the unit did send (state 'unreadable'), it is not 'missing'
UNREADABLE_FILE_CODES = ("E_FILE_UNREADABLE", "E_FILE_ENCODING", "E_FILE_TYPE")

# the forms a report date may take: the template's instruction and every date message say the same
DATE_FORMS = "ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08)"

# code -> (severity, Vietnamese message template, how to fix). Placeholders come from Problem.params.
CATALOG: dict[str, tuple[str, str, str]] = {
    "W_FORMULA_NO_VALUE": (WARNING, "Ô có công thức nhưng chưa có giá trị đã tính, nên được đọc là ô trống.",
                           "Mở tệp bằng Excel hoặc LibreOffice, lưu lại (để công thức được tính) rồi gửi lại; hoặc "
                           "gõ thẳng con số vào ô."),
    "W_ROW_NOT_IN_TEMPLATE": (WARNING, "Dòng này không phải một dòng của mẫu biểu (dòng chèn thêm?) nên số "
                                       "{found} ở đây không được tính.",
                              "Ghi số liệu vào đúng dòng của thôn hoặc của chỉ tiêu trong mẫu; dòng cộng hay dòng "
                              "tổng không cần ghi: kit tự cộng từ các thôn."),
    "W_ROWS_REORDERED": (WARNING, "{found} đã bị sắp xếp lại; số liệu được đọc theo {expected} ({detail}; tên ghi "
                                  "trên dòng không còn khớp khóa ẩn của mẫu ở cột A).",
                         "Không cần sửa nếu mỗi dòng ghi đúng tên của số liệu trên dòng đó. Lần sau không sắp xếp "
                         "riêng một phần của bảng (chỉ cột tên hoặc chỉ vài cột số)."),
    "W_COLUMNS_MOVED": (WARNING, "Các cột số liệu đã bị di chuyển ({detail}); số liệu được đọc theo tiêu đề cột ở "
                                 "dòng {found}.",
                        "Không cần sửa nếu mỗi cột có đúng tiêu đề của số liệu trong cột đó."),
    "E_ROW_UNPLACED": (ERROR, "Không xác định được dòng này là của thôn hay số liệu nào: {detail}; {expected} số "
                              "trên dòng không được nhận (nhiều khả năng tên ở dòng này đã bị sửa hoặc bị xóa khi "
                              "sắp xếp, di chuyển dòng).",
                       "Ghi lại đúng tên thôn (hoặc tên số liệu cấp xã) như trong mẫu ở đầu dòng rồi gửi lại; nếu "
                       "bảng đã bị xáo trộn, xin mẫu mới (tạo bằng `kpi template`), chép số liệu sang theo từng "
                       "thôn rồi gửi lại."),
    "E_COLUMN_UNPLACED": (ERROR, "Không xác định được cột này là số liệu nào: {detail}; {expected} số trong cột "
                                 "không được nhận (nhiều khả năng tiêu đề đã bị sửa hoặc các cột đã bị di chuyển).",
                          "Ghi lại đúng tiêu đề cột như trong mẫu rồi gửi lại; nếu bảng đã bị xáo trộn, xin mẫu "
                          "mới (tạo bằng `kpi template`), chép số liệu sang rồi gửi lại."),
    "W_COLUMN_NOT_IN_TEMPLATE": (WARNING, "Cột này (tiêu đề '{found}') không phải một cột của mẫu biểu (cột chèn "
                                          "thêm?) nên {expected} số trong cột không được tính.",
                                 "Ghi số liệu vào đúng cột của mẫu; cột thêm để ghi chú hay đánh số thứ tự không "
                                 "được đọc."),
    "E_FORMULA_EXTERNAL": (ERROR, "Ô có công thức lấy số từ ngoài tệp ({found}); số {expected} hiển thị trong ô "
                                  "không phải số được gõ nên không được nhận.",
                           "Gõ thẳng con số vào ô (hoặc chép rồi dán dạng Giá trị - Paste Values) rồi gửi lại; "
                           "không liên kết tới tệp khác hay chương trình khác."),
    "W_FORMULA_CACHED": (WARNING, "Tệp có {found} ô số liệu là công thức (ví dụ {detail}); số liệu được lấy theo giá "
                                  "trị Excel đã tính và lưu trong tệp.",
                         "Không cần sửa nếu các giá trị đó đúng; tốt hơn là gõ thẳng con số vào ô."),
    "W_DATE_MISSING": (WARNING, "Thiếu ngày báo cáo; các số liệu của tệp vẫn được nhận, ngày gửi ghi là không rõ.",
                       "Ghi ngày gửi báo cáo vào ô này, dạng ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08)."),
    "W_DATE_INVALID": (WARNING, "Không đọc được ngày báo cáo '{found}' (không đúng dạng hoặc không có thật, ví dụ "
                                "30/02); các số liệu vẫn được nhận, ngày gửi ghi là không rõ.",
                       "Ghi ngày dạng ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08)."),
    "W_DATE_BEFORE_PERIOD": (WARNING, "Ngày báo cáo {found} ở trước khi kỳ báo cáo {detail} bắt đầu; các số "
                                      "liệu vẫn được nhận, ngày gửi ghi là không rõ.",
                             "Kiểm tra lại ngày báo cáo: ngày gửi không thể trước kỳ báo cáo; ghi dạng ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08)."),
    "W_DATE_TOO_LATE": (WARNING, "Ngày báo cáo {found} quá xa sau hạn của kỳ {detail}; "
                                 "nhiều khả năng ghi nhầm năm hoặc đảo ngày tháng. Các số liệu vẫn được nhận, ngày "
                                 "gửi ghi là không rõ.",
                        "Ghi đúng ngày gửi báo cáo, dạng ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08)."),
    "W_DATE_FUTURE": (WARNING, "Ngày báo cáo {found} ở sau hôm nay.",
                      "Kiểm tra lại ngày, tháng, năm của ngày gửi báo cáo (ghi dạng ngày/tháng/năm (08/12/2026, 8/12/2026, 08-12-2026, 08.12.2026) hoặc năm-tháng-ngày (2026-12-08))."),
    "E_FILE_UNREADABLE": (ERROR, "Không đọc được tệp: {detail}.",
                          "Mở lại tệp bằng Excel, lưu dưới dạng .xlsx hoặc CSV UTF-8 rồi gửi lại."),
    "E_FILE_TOO_LARGE": (ERROR, "Tệp quá lớn ({found}); giới hạn là {expected}.",
                         "Mỗi đơn vị chỉ gửi số liệu của mình trong một tệp mẫu biểu; tách tệp hoặc xóa các dòng, "
                         "trang thừa rồi gửi lại (giới hạn đặt bằng biến KPI_MAX_FILE_MB, KPI_MAX_UNZIPPED_MB)."),
    "E_SHEET_TOO_LARGE": (ERROR, "Trang tính có quá nhiều dòng ({found}); giới hạn là {expected} dòng.",
                          "Xóa các dòng trống hoặc thừa ở cuối trang rồi gửi lại (giới hạn đặt bằng biến KPI_MAX_ROWS)."),
    "E_FILE_OUTSIDE_DATA": (ERROR, "Tệp là liên kết (symlink) trỏ ra ngoài thư mục số liệu hoặc không tồn tại; không đọc.",
                            "Chép chính tệp số liệu vào thư mục submissions/, không dùng liên kết."),
    "E_FILE_NAME_INVALID": (ERROR, "Tên tệp có ký tự điều khiển hoặc ký tự không hợp lệ (< > : \" | ? * \\); không đọc.",
                            "Đổi tên tệp chỉ dùng chữ, số, dấu gạch ngang và dấu chấm, ví dụ 2026-11/vhxh.xlsx."),
    "E_FILE_EMPTY": (ERROR, "Tệp không có dòng số liệu nào.",
                     "Điền số liệu vào mẫu biểu rồi gửi lại; không gửi tệp trống."),
    "E_FILE_TYPE": (ERROR, "Loại tệp '{found}' không được hỗ trợ.",
                    "Gửi tệp .xlsx (mẫu biểu của bộ công cụ), .xls, .ods hoặc .csv: mở tệp bằng Excel, WPS hoặc "
                    "LibreOffice, chọn Lưu thành (Save As) kiểu Excel Workbook (.xlsx) rồi gửi lại."),
    "E_FILE_ENCODING": (ERROR, "Không nhận ra bảng mã của tệp CSV (chỉ nhận UTF-8 có hoặc không có BOM, UTF-16, "
                               "Windows-1258 tiếng Việt, Windows-1252).",
                        "Trong Excel chọn Lưu dưới dạng > 'CSV UTF-8 (phân cách bằng dấu phẩy)' rồi gửi lại."),
    "E_COLUMNS_MISSING": (ERROR, "Thiếu cột bắt buộc: {found}.",
                          "Dòng tiêu đề phải có các cột: kỳ báo cáo, đơn vị, thôn, mã số liệu, giá trị, ngày báo cáo."),
    "E_PERIOD_INVALID": (ERROR, "Kỳ báo cáo '{found}' không hợp lệ.",
                         "Ghi kỳ báo cáo dạng NNNN-TT, ví dụ 2026-11."),
    "E_PERIOD_OUTSIDE_PLAN": (ERROR, "Kỳ báo cáo '{found}' nằm ngoài năm kế hoạch {expected}.",
                              "Chỉ gửi số liệu các tháng của năm {expected}."),
    "E_UNIT_UNKNOWN": (ERROR, "Mã đơn vị '{found}' không có trong kế hoạch.",
                       "Dùng một trong các mã: {expected}."),
    "E_ELEMENT_UNKNOWN": (ERROR, "Mã số liệu '{found}' không có trong kế hoạch.",
                          "Dùng đúng mã số liệu trong mẫu biểu (chạy `kpi plan` để xem danh sách)."),
    "E_ELEMENT_WRONG_UNIT": (ERROR, "Số liệu '{found}' thuộc đơn vị {expected}, không thuộc đơn vị gửi tệp ({detail}).",
                             "Xóa dòng này; đơn vị {expected} sẽ báo cáo số liệu này."),
    "E_FILE_OTHER_UNIT": (ERROR, "Tệp của đơn vị {expected} chứa số liệu '{found}' của đơn vị {detail}.",
                          "Xóa dòng này khỏi tệp; đơn vị {detail} tự báo cáo số liệu này trong tệp của mình."),
    "E_UNIT_NOT_FILE_UNIT": (ERROR, "Dòng ghi đơn vị '{found}' nhưng tệp là của đơn vị {expected}.",
                             "Sửa ô đơn vị cho đúng đơn vị gửi tệp."),
    "E_VILLAGE_UNKNOWN": (ERROR, "Thôn '{found}' không có trong danh sách thôn của kế hoạch.",
                          "Ghi đúng tên thôn, một trong: {expected}."),
    "E_VILLAGE_REQUIRED": (ERROR, "Số liệu '{detail}' được báo cáo theo thôn nhưng ô thôn để trống.",
                           "Ghi tên thôn cho dòng này."),
    "E_VILLAGE_NOT_EXPECTED": (ERROR, "Số liệu '{detail}' là số liệu cấp xã nhưng dòng lại ghi thôn '{found}'.",
                               "Để trống ô thôn cho số liệu cấp xã."),
    "E_VALUE_MISSING": (ERROR, "Ô giá trị để trống.", "Điền số liệu; nếu bằng không thì ghi 0."),
    "E_VALUE_NOT_NUMBER": (ERROR, "Giá trị '{found}' không phải là số.",
                           "Chỉ ghi chữ số, ví dụ 1234 hoặc 1.234 (dấu chấm ngăn cách hàng nghìn); không ghi chữ hay đơn vị."),
    "E_VALUE_NEGATIVE": (ERROR, "Giá trị {found} là số âm.", "Số liệu phải lớn hơn hoặc bằng 0."),
    "E_VALUE_NOT_WHOLE": (ERROR, "Giá trị {found} không phải số nguyên, mà '{detail}' là số đếm.",
                          "Ghi số nguyên (số người, số hồ sơ...), không có phần thập phân."),
    "E_VALUE_OUT_OF_RANGE": (ERROR, "Giá trị {found} nằm ngoài khoảng cho phép {expected}.",
                             "Ghi giá trị trong khoảng {expected}."),
    "E_NUMERATOR_ABOVE_DENOMINATOR": (ERROR, "{detail}: tử số {found} lớn hơn mẫu số {expected}.",
                                      "Kiểm tra lại hai số liệu này; tử số không được lớn hơn mẫu số."),
    "E_DUPLICATE": (ERROR, "Ô này được gửi hai lần với giá trị khác nhau ({found} và {expected}); giá trị được dùng là {expected} ở {detail}.",
                    "Giữ lại một giá trị đúng; khi sửa số liệu hãy ghi ngày báo cáo mới hơn để bản sửa được dùng."),
    "E_PERIOD_FOLDER_MISMATCH": (ERROR, "Tệp nằm trong thư mục kỳ {expected} nhưng {detail} ghi kỳ báo cáo {found} "
                                 "(dùng lại mẫu tháng trước?); các dòng đó không được nhận, số liệu đã nhận của kỳ "
                                 "{found} giữ nguyên.",
                                 "Sửa kỳ báo cáo trong tệp thành {expected} (với mẫu biểu: tạo mẫu mới bằng "
                                 "`kpi template --period {expected}` rồi chép số liệu sang) hoặc chuyển tệp sang "
                                 "thư mục đúng kỳ {found}."),
    "W_REVISED": (WARNING, "Số liệu được sửa: {detail}.",
                  "Không cần làm gì nếu giá trị mới {found} là bản sửa đúng; nếu không, xóa tệp gửi sau hoặc gửi lại "
                  "tệp có giá trị đúng với ngày báo cáo mới hơn."),
    "W_VILLAGE_MISSING": (WARNING, "{detail} (đơn vị đã gửi các số liệu này cho những thôn khác của kỳ {expected}).",
                          "Điền số liệu của {found} vào mẫu biểu (nếu bằng không thì ghi 0) rồi gửi lại; không xóa "
                          "dòng của thôn nào trong mẫu."),
    "W_DUPLICATE_SAME": (WARNING, "Dòng lặp lại y hệt {detail}; chỉ tính một lần.", "Xóa dòng lặp."),
    "W_RESENT_SAME": (WARNING, "Tệp gửi lại {found} giá trị không đổi so với {expected} ({detail}); mỗi giá trị chỉ "
                               "tính một lần.",
                      "Không cần làm gì: gửi lại cả tệp khi sửa vài ô là bình thường; các giá trị đã sửa được liệt kê "
                      "riêng (W_REVISED)."),
    "W_JUMP": (WARNING, "{detail}.",
               "Kiểm tra lại số liệu; nếu đúng thì báo lý do cho phòng Văn hóa - Xã hội."),
    "W_STOCK_FALL": (WARNING, "Số liệu lũy kế giảm mạnh: {found} so với {expected} của tháng trước ({detail}).",
                     "Số liệu lũy kế (dân số, số người có tài khoản...) thường không giảm; kiểm tra lại."),
}


# How a logical column of the long format is named to a user; a template's cells are named by Excel letter.
COLUMN_LABELS = {"period": "Kỳ báo cáo", "unit": "Đơn vị", "village": "Thôn", "element": "Mã số liệu",
                 "value": "Giá trị", "submitted_on": "Ngày báo cáo"}


def column_label(column: str) -> str:
    """'value' -> "cột 'Giá trị' (value)"; an Excel letter 'C' -> 'cột C'."""
    if column in COLUMN_LABELS:
        return f"cột '{COLUMN_LABELS[column]}' ({column})"
    return f"cột {column}"


def format_place(file: str, sheet: str = "", row: object = None, column: str = "") -> str:
    """Where a problem is, in Vietnamese: file, sheet, row and column (those that are known)."""
    import pandas as pd

    parts = [file or "?"]
    if sheet:
        parts.append(f"trang '{sheet}'")
    if row is not None and not pd.isna(row):
        parts.append(f"dòng {int(row)}")
    if column:
        parts.append(column_label(column))
    return ", ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One data problem at one place; `message` and `fix` are Vietnamese."""

    code: str
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""
    found: str = ""
    expected: str = ""
    detail: str = ""
    hint: str = ""  # a likely cause of this value, added to the message (a comma typed as thousands separator)
    unit: str | None = None  # the unit the file is of, when known (a guess from the file name for an unreadable file)
    period: str | None = None  # the period the file is of, when known

    @property
    def severity(self) -> str:
        return CATALOG[self.code][0]

    @property
    def message(self) -> str:
        text = CATALOG[self.code][1].format(found=self.found, expected=self.expected, detail=self.detail)
        return f"{text} {self.hint}" if self.hint else text

    @property
    def fix(self) -> str:
        return CATALOG[self.code][2].format(found=self.found, expected=self.expected, detail=self.detail)

    @property
    def place(self) -> str:
        return format_place(self.file, self.sheet, self.row, self.column)

    def describe(self) -> str:
        """One line for a terminal: place, code, message, fix."""
        label = "LỖI" if self.severity == ERROR else "CẢNH BÁO"
        return f"{self.place}: [{label} {self.code}] {self.message} Cách sửa: {self.fix}"

    def as_record(self) -> dict:
        return {**asdict(self), "severity": self.severity, "message": self.message, "fix": self.fix}


PROBLEM_COLUMNS = ["severity", "code", "file", "sheet", "row", "column", "found", "expected", "detail",
                   "message", "fix"]


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a frame in a stable order (file, row, code)."""
    import pandas as pd

    frame = pd.DataFrame([p.as_record() for p in problems], columns=PROBLEM_COLUMNS)
    frame["row"] = frame["row"].astype("Int64")
    return frame.sort_values(["file", "sheet", "row", "code"], kind="stable", na_position="first").reset_index(drop=True)
