"""What a run made: each report's outcome, and the table the terminal shows at the end."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpi.core.files import write_error_text
from kpi.core.paths import LOG_DIR


@dataclass
class ReportResult:
    unit: str
    files: dict[str, Path] = field(default_factory=dict)  # format -> path
    error: str = ""
    skipped: bool = False  # inputs unchanged since the manifest recorded it: not remade
    seconds: float = 0.0
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.error

    @classmethod
    def kept(cls, unit: str, entry: dict, folder: Path) -> "ReportResult":
        """A report the manifest of `folder` records as made from the same inputs: not made again."""
        return cls(unit, {f: folder / name for f, name in entry["outputs"].items()}, skipped=True,
                   log=folder / LOG_DIR / f"{unit}.log")


@dataclass
class BatchResult:
    period: str
    out_dir: Path
    reports: list[ReportResult]
    index: Path | None = None
    scorecard: Path | None = None
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)
    unwritten: list[str] = field(default_factory=list)  # outputs a fault kept from being written (a full disk)
    pdf_engine: str = ""  # the engine that printed this run's PDFs, in words (kpi.outputs.pdf.Engine.label)

    @property
    def failed(self) -> list[ReportResult]:
        return [r for r in self.reports if not r.ok]

    def attempt(self, name: str, path: Path, write: Callable[[], Any], at: tuple[int, int] | None = None) -> Any:
        """One of the batch's own outputs: what `write` returns, or None when it could not be written (a full
        disk), which is said in the notes and counted as unwritten while the rest of the run goes on. `at`: the
        places in the notes and the unwritten list it goes to, for an output written aside (kpi.run.batch)."""
        try:
            return write()
        except OSError as exc:
            notes_at, unwritten_at = at or (len(self.notes), len(self.unwritten))
            self.notes.insert(notes_at, write_error_text(exc, path))
            self.unwritten.insert(unwritten_at, name)
            return None


_PYTHON_ERROR = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(:|$)")  # 'TypeError: …', 'PapermillExecutionError: …', 'KeyError'


def error_words(error: str) -> str:
    """A report's failure as the terminal says it: the kit's own Vietnamese reason as it is, but a Python
    exception (a bug, or a fault the kit has no words for) as one sentence; its text stays in the log."""
    if not _PYTHON_ERROR.match(error or ""):
        return error
    return "lỗi khi chạy sổ tay báo cáo; chi tiết kỹ thuật ở nhật ký, gửi tệp nhật ký cho người hỗ trợ"


def summary_table(results: list[BatchResult]) -> str:
    """The end-of-run table: every report with its state, time and, for a failure, its error."""
    wide = max([8, *(len(b.period) for b in results)])  # a province run's periods read "xa_001/2026-11"
    lines = [f"{'Kỳ':<{wide}} {'Báo cáo':<9} {'Tình trạng':<22} {'Thời gian':>9}  Chi tiết"]
    for b in results:
        for r in b.reports:
            state = ("bỏ qua (không đổi)" if r.skipped else "LỖI" if r.error else "xong")
            detail = error_words(r.error) + (f" (nhật ký: {r.log})" if r.log else "") if r.error else \
                ", ".join(p.name for f, p in r.files.items() if f != "ipynb")
            secs = "" if r.skipped else f"{r.seconds:.1f} giây"
            lines.append(f"{b.period:<{wide}} {r.unit:<9} {state:<22} {secs:>9}  {detail}")
    engines = list(dict.fromkeys(b.pdf_engine for b in results
                                 if b.pdf_engine and any("pdf" in r.files and not r.skipped for r in b.reports)))
    if engines:
        lines.append(f"PDF in bằng: {', '.join(engines)}")
    return "\n".join(lines)
