"""JSON-schema errors said in Vietnamese: what was found at the place, what the file must hold there."""

from __future__ import annotations

from typing import Any

TYPES = {"string": "một chuỗi chữ", "integer": "một số nguyên", "number": "một số", "boolean": "true hoặc false",
         "object": "một bảng (khóa: giá trị)", "array": "một danh sách (các dòng bắt đầu bằng '- ')",
         "null": "để trống"}


def _found(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "…"


def _kinds(kinds: Any) -> str:
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    return " hoặc ".join(TYPES.get(k, k) for k in kinds)


def message(error) -> str:
    """One jsonschema ValidationError as a Vietnamese sentence ending with what to write instead."""
    v, arg, inst = error.validator, error.validator_value, error.instance
    if v == "required":
        missing = [k for k in arg if isinstance(inst, dict) and k not in inst]
        return f"thiếu mục bắt buộc {', '.join(repr(k) for k in missing)}; thêm mục này"
    if v == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed) if isinstance(inst, dict) else []
        return (f"mục không được biết {', '.join(repr(k) for k in extra)}; xóa đi hoặc sửa lỗi chính tả "
                f"(được dùng: {', '.join(sorted(allowed))})")
    if v == "type":
        return f"giá trị {_found(inst)} không đúng kiểu; cần {_kinds(arg)}"
    if v == "enum":
        return f"giá trị {_found(inst)} không được chấp nhận; chọn một trong: {', '.join(map(str, arg))}"
    if v == "const":
        return f"giá trị {_found(inst)} phải là {arg!r}"
    if v == "pattern":
        return f"giá trị {_found(inst)} không đúng dạng (mẫu {arg})"
    if v == "format":
        return f"giá trị {_found(inst)} không đúng định dạng {arg}"
    if v in ("minimum", "exclusiveMinimum"):
        return f"giá trị {_found(inst)} quá nhỏ; cần {'≥' if v == 'minimum' else '>'} {arg}"
    if v in ("maximum", "exclusiveMaximum"):
        return f"giá trị {_found(inst)} quá lớn; cần {'≤' if v == 'maximum' else '<'} {arg}"
    if v == "minLength":
        return f"giá trị {_found(inst)} quá ngắn; cần ít nhất {arg} ký tự" if arg > 1 else "giá trị đang để trống; điền vào"
    if v == "maxLength":
        return f"giá trị {_found(inst)} quá dài; tối đa {arg} ký tự"
    if v == "minItems":
        return f"danh sách cần ít nhất {arg} mục"
    if v == "maxItems":
        return f"danh sách có quá nhiều mục; tối đa {arg}"
    if v == "uniqueItems":
        return "danh sách có mục trùng nhau; mỗi mục chỉ ghi một lần"
    if v in ("oneOf", "anyOf"):
        return f"giá trị {_found(inst)} không khớp dạng nào được phép ở đây; xem ví dụ trong tệp kế hoạch mẫu params/plan_2026.yml"
    return f"giá trị {_found(inst)} không hợp lệ ({v})"
