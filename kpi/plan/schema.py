"""The plan file's JSON schema (checked when the plan loads; the messages say it in Vietnamese)."""

from __future__ import annotations

from typing import Any

UNIT_CODES = ("vhxh", "kt", "ttpvhcc", "ca")


_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


_TEXT = {"type": "string", "minLength": 1}


SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["commune", "year", "units", "villages", "elements", "indicators", "report_due_day"],
    "properties": {
        "commune": _TEXT,
        "commune_full": _TEXT,
        "province": _TEXT,
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "title": _TEXT,
        "consolidating_unit": _TEXT,
        "report_due_day": {"type": "integer", "minimum": 1, "maximum": 28},
        "focal_point": {"type": "object"},
        "signed_by": {"type": "string"},
        "general_tasks": {"type": "array", "items": _TEXT},
        "report_recipients": {"type": "array", "items": _TEXT},  # the Báo cáo's Nơi nhận (kpi.outputs.docx_report)
        "units": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", "short"],
                "properties": {
                    "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "name": _TEXT,
                    "short": _TEXT,
                    "role": {"type": "string"},
                    "officers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name"],
                            "properties": {
                                "name": _TEXT,
                                "phone": {"type": "string"},
                                "email": {"type": "string", "pattern": r"^$|^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"},
                                "note": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "villages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name"],
                "properties": {"code": {"type": "string", "pattern": r"^[a-z0-9_]+$"}, "name": _TEXT},
            },
        },
        "elements": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "label", "unit", "level", "time"],
                "properties": {
                    "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "label": _TEXT,
                    "unit": {"type": "string"},
                    "level": {"enum": ["village", "commune"]},
                    "time": {"enum": ["stock", "flow"]},
                    "max": {"type": "number", "exclusiveMinimum": 0},
                    "decimals": {"type": "boolean"},
                },
            },
        },
        "indicators": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "group", "name", "short", "kind", "numerator", "target", "deadline", "lead"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[0-9]+[a-z]?$"},
                    "group": {"type": "string"},
                    "name": _TEXT,
                    "short": _TEXT,
                    "kind": {"enum": ["ratio", "count"]},
                    "numerator": {"type": "string"},
                    "denominator": {"type": "string"},
                    "denominator_constant": {"type": "number", "exclusiveMinimum": 0},
                    "target": {
                        "oneOf": [
                            {"const": "encouraged"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["op", "value"],
                                "properties": {"op": {"const": ">="}, "value": {"type": "number"}},
                            },
                        ]
                    },
                    "target_text": {"type": "string"},
                    "deadline": {"oneOf": [{"const": "continuous"}, _DATE]},
                    "lead": {"type": "string"},
                    "partners": {"type": "string"},
                    "method": {"type": "string"},
                    "purpose": {"type": "string"},
                    "note": {"type": "string"},
                    "tasks": {"type": "array", "items": _TEXT},
                    # false: not assigned to this commune (kept in the plan, left out of every count and table,
                    # named once where a reader looks for it)
                    "assigned": {"type": "boolean"},
                },
            },
        },
    },
}
