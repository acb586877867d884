"""Are two runs' reports the same for a reader? Compares two period folders made on the same day: every report's
text (the HTML's text content and the text of its SVG charts, the DOCX's paragraphs and tables), the scorecard
CSV byte for byte and the scorecard workbook cell by cell. Speed work must leave all of it unchanged.

    python benchmarks/same_outputs.py OLD/2026-11 NEW/2026-11

Prints one line per file compared and exits 1 when anything differs."""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path


class _Text(HTMLParser):
    """The text a reader sees, in order, one piece per line (scripts and styles left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def html_text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.parts


def docx_text(path: Path) -> list[str]:
    import docx

    doc = docx.Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    return parts


def xlsx_cells(path: Path) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None]


def compare(old: Path, new: Path) -> int:
    differ = 0
    readers = {".html": html_text, ".docx": docx_text, ".xlsx": xlsx_cells, ".csv": Path.read_bytes}
    names = sorted(p.name for p in old.iterdir() if p.suffix in readers and not p.name.startswith("."))
    for name in names:
        if not (new / name).exists():
            print(f"thiếu      {name}")
            differ += 1
            continue
        read = readers[Path(name).suffix]
        a, b = read(old / name), read(new / name)
        same = a == b
        differ += not same
        detail = ""
        if not same and isinstance(a, list):
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            detail = f" (khác từ phần {first}: {a[first:first + 1]!r} / {b[first:first + 1]!r})"
        print(f"{'giống' if same else 'KHÁC':10} {name}{detail}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
