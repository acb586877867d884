"""Which engine prints the PDF on this machine: $KPI_CHROMIUM, a system Chrome/Chromium/Edge, then WeasyPrint.

Nothing is downloaded. The order: the browser named by KPI_CHROMIUM; a Chromium, Google Chrome or Microsoft
Edge on PATH or at the place its installer puts it on Linux, macOS or Windows; WeasyPrint (a Python package
of the kit, needing only Pango, which Debian, Ubuntu and macOS Homebrew have); and only then HTML alone, with
a sentence saying what to install. Both engines print the same HTML with the same @page rules (A4, running
header, "Trang X/Y"), so the report and its page 1 read the same whichever printed it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Names on PATH, in the order they are tried.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
                 "microsoft-edge", "microsoft-edge-stable", "msedge")

# Where installers put the browser when it is not on PATH (/usr/bin is found through PATH).
LINUX_PLACES = ("/opt/google/chrome/chrome", "/opt/microsoft/msedge/msedge", "/snap/bin/chromium",
                "/var/lib/flatpak/exports/bin/org.chromium.Chromium")
MAC_APPS = ("Google Chrome.app/Contents/MacOS/Google Chrome", "Chromium.app/Contents/MacOS/Chromium",
            "Microsoft Edge.app/Contents/MacOS/Microsoft Edge")
WINDOWS_APPS = (r"Google\Chrome\Application\chrome.exe", r"Microsoft\Edge\Application\msedge.exe",
                r"Chromium\Application\chrome.exe")

INSTALL_HINT = ("Cài một trong hai: trình duyệt Chromium/Google Chrome/Microsoft Edge (hoặc đặt biến KPI_CHROMIUM "
                "trỏ tới nó), hoặc thư viện Pango cho WeasyPrint (Debian/Ubuntu: `sudo apt install "
                "libpango-1.0-0 libpangoft2-1.0-0`; macOS: `brew install pango`), rồi chạy lại.")


def usual_places(platform: str | None = None, environ: dict | None = None) -> list[str]:
    """The places a system browser is installed on this kind of machine, most likely first."""
    platform = platform or sys.platform
    env = os.environ if environ is None else environ
    if platform == "darwin":
        roots = ["/Applications", str(Path(env.get("HOME", "~")).expanduser() / "Applications")]
        return [f"{root}/{app}" for app in MAC_APPS for root in roots]
    if platform.startswith("win"):
        roots = [env.get(k) for k in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        roots = [r for r in roots if r] or [r"C:\Program Files", r"C:\Program Files (x86)"]
        return [f"{root}\\{app}" for app in WINDOWS_APPS for root in roots]
    return list(LINUX_PLACES)


def find_browser() -> str | None:
    """A Chromium-family browser: on PATH first, then at its usual place; None when there is none.
    ($KPI_CHROMIUM is looked at by `choose`, which also says when it names nothing.)"""
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in usual_places() if Path(p).is_file() and os.access(p, os.X_OK)), None)


def weasyprint_problem() -> str:
    """"" when WeasyPrint can print here; else why not (the package or its Pango library missing)."""
    try:
        import weasyprint  # noqa: F401 - loading it loads Pango
    except Exception as exc:  # ImportError, or OSError when Pango's library is not found
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__
    return ""


@dataclass(frozen=True)
class Engine:
    """The PDF engine of a run: `name` is "chromium", "weasyprint" or "" (none: HTML only); `path` the
    browser's; `notes` what the run summary says about it."""

    name: str
    path: str = ""
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return {"chromium": f"Chromium ({self.path})", "weasyprint": "WeasyPrint"}.get(self.name, "")


def choose() -> Engine:
    """The first engine of the order that this machine has (see the module's docstring)."""
    notes = []
    named = os.environ.get("KPI_CHROMIUM")
    if named:
        found = named if Path(named).is_file() else shutil.which(named)
        if found:
            return Engine("chromium", found)
        notes.append(f"Biến KPI_CHROMIUM trỏ tới '{named}' nhưng không có trình duyệt ở đó; tìm cách in PDF khác.")
    browser = find_browser()
    if browser:
        return Engine("chromium", browser, tuple(notes))
    problem = weasyprint_problem()
    if not problem:
        return Engine("weasyprint", "", tuple(notes))
    logging.getLogger("kpi.outputs.pdf").warning("Không dùng được WeasyPrint: %s", problem)
    notes.append("Không tìm thấy Chromium/Chrome/Edge và không dùng được WeasyPrint nên chưa tạo PDF (chỉ tạo "
                 "HTML). " + INSTALL_HINT)
    return Engine("", "", tuple(notes))


class _SvgStyleNoise(logging.Filter):
    """WeasyPrint reads the charts' own <style> (fill, stroke, text-anchor) as CSS for HTML boxes too and warns
    that it does not know those properties; its SVG drawing does use them. Those warnings are not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "unknown property" not in record.getMessage()


logging.getLogger("weasyprint").addFilter(_SvgStyleNoise())


def weasy_pdf(html: Path, target: Path) -> Path:
    """Print the HTML to an A4 PDF with WeasyPrint; the report loads nothing but its own file and data: URLs."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    from kpi.core.errors import RenderError
    from kpi.core.files import write_atomic

    local_only = URLFetcher(allowed_protocols={"file", "data"})  # nothing from the internet

    try:
        pdf = HTML(filename=str(html), url_fetcher=local_only).write_pdf()
    except Exception as exc:
        raise RenderError(f"WeasyPrint không in được {Path(html).name} sang PDF: {type(exc).__name__}: "
                          f"{str(exc).strip()[:400]}") from None
    write_atomic(Path(target), pdf)
    return Path(target)


class WeasyPrinter:
    """WeasyPrint behind the batch's printer interface (render.PdfPrinter's submit/print/close): one thread
    prints the month's PDFs while the workers run the next notebooks."""

    name = "weasyprint"

    def __init__(self, timeout: float = 180):
        self.timeout = timeout
        self.fallback = ""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-weasyprint")

    def __enter__(self) -> "WeasyPrinter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, html: Path, target: Path) -> Future:
        return self._pool.submit(weasy_pdf, Path(html), Path(target))

    def print(self, html: Path, target: Path, time_limit: float | None = None) -> Path:
        from concurrent.futures import TimeoutError as FutureTimeout

        from kpi.core.errors import RenderError

        try:
            return self.submit(html, target).result(timeout=time_limit)
        except FutureTimeout:
            self.abort()
            raise RenderError(f"Quá thời gian: in {Path(html).name} sang PDF bằng WeasyPrint chưa xong sau "
                              f"{time_limit:g} giây.") from None

    def abort(self) -> None:
        """A print past its time limit: its thread is left to finish alone (WeasyPrint cannot be stopped from
        outside); later prints get a fresh thread."""
        old, self._pool = self._pool, ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-weasyprint")
        old.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def open_printer(engine: Engine):
    """The batch's printer for `engine` (None when there is no engine), already started."""
    from kpi.outputs.render import PdfPrinter

    if engine.name == "chromium":
        return PdfPrinter(engine.path).__enter__()
    if engine.name == "weasyprint":
        return WeasyPrinter()
    return None


def find_chromium() -> str | None:
    """The browser that prints PDFs: $KPI_CHROMIUM if it exists, else a Chromium, Chrome or Edge on PATH or at
    its usual place; None when there is none (then WeasyPrint prints, see choose)."""
    engine = choose()
    return engine.path if engine.name == "chromium" else None
