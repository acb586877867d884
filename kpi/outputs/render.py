"""Executed notebook -> self-contained HTML (nbconvert, no code, nothing from the internet) -> A4 PDF (Chromium;
kpi.outputs.pdf picks the engine and prints with WeasyPrint where no browser is)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from kpi.core import paths, safety
from kpi.core.errors import RenderError  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.core.files import write_atomic


def _exporter_class():
    """nbconvert's HTMLExporter without its last step, which parses the whole page again with BeautifulSoup to give
    an <img> without alt text an English one and to make JupyterLab's cell boxes focusable: the kit's template
    writes every image's alt text itself (in the report's language) and has no JupyterLab cells, and the pass cost
    half of the HTML's rendering time."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node (nbconvert 7.17) up to the template's output
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code",
                                 self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


def to_html(notebook, target: Path, title: str, lang: str = "vi") -> Path:
    """Render an executed notebook (a notebook object, or its file) to one HTML file: outputs only, images inline,
    lang attribute set."""
    import nbformat  # here, not at the top: a re-run with nothing to remake never renders (and saves the import)
    from traitlets.config import Config

    exporter = _exporter_class()(
        config=Config({"TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": ["remove-cell"]}}),
        template_name="kpi_report", extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
        language_code=lang,
    )
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    safety.stable_cell_ids(nb)  # same month, same HTML
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    write_atomic(target, body)
    return target


def to_pdf(html: Path, target: Path, chromium: str, timeout: int = 180) -> Path:
    """Print the HTML to an A4 PDF with headless Chromium's own --print-to-pdf (no browser download)."""
    with tempfile.TemporaryDirectory(prefix="kpi-chromium-") as profile:
        tmp = target.with_name(f".{target.name}.part")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", html.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium không in xong {html.name} sang PDF sau {timeout} giây.") from None
        except OSError as exc:
            raise RenderError(f"Không chạy được Chromium ({chromium}) để in {html.name}: {exc.strerror}. Cài gói "
                              "`chromium` hoặc đặt biến KPI_CHROMIUM trỏ tới trình duyệt.") from None
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tmp.unlink(missing_ok=True)
            raise RenderError(f"Chromium không in được {html.name} sang PDF: {proc.stderr.strip()[-400:]}")
        os.replace(tmp, target)
    return target


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions"]
NOT_LOCAL = re.compile(r"^(?!(file|data|blob|about):)")  # any request that would leave the machine


class PdfPrinter:
    """One headless Chromium for many PDFs: the batch starts the browser once and prints every report of the
    month with it (page.pdf, the same printing as --print-to-pdf, A4 from the report's @page rule), instead
    of starting Chromium once per report.

    Driven by playwright on the machine's own Chromium (`chromium` is its path; no browser is downloaded).
    Playwright's objects belong to the thread that made them, so all printing happens on one thread of
    this object; `submit` may be called from any thread and returns a Future. When the browser cannot be
    started (playwright missing, a Chromium it cannot drive) each file is printed with `to_pdf` instead,
    one Chromium start per file as before; a browser that dies is started again once."""

    def __init__(self, chromium: str, timeout: float = 180):
        self.chromium, self.timeout = chromium, timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-pdf")
        self._pw = self._browser = self._page = None
        self.fallback = ""  # why the printer prints file by file with to_pdf, when it does
        self._epoch = 0  # abort() starts a new epoch: work of the abandoned thread never retries

    def __enter__(self) -> "PdfPrinter":
        self._pool.submit(self._start)  # the browser starts while the notebooks run
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        if self._browser is not None or self.fallback:
            return
        try:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=self.chromium, args=CHROMIUM_ARGS,
                                                     timeout=self.timeout * 1000)
        except Exception as exc:  # no playwright, or a browser it cannot start: print file by file
            self._stop()
            text = str(exc).strip()
            self.fallback = f"{type(exc).__name__}: {text.splitlines()[0][:200]}" if text else type(exc).__name__
            logging.getLogger("kpi.outputs.render").warning("In PDF từng tệp một (không mở được Chromium dùng chung: %s)",
                                                    self.fallback)

    def _stop(self) -> None:
        for stop in (self._browser and self._browser.close, self._pw and self._pw.stop):
            try:
                if stop:
                    stop()
            except Exception:  # already gone
                pass
        self._browser = self._pw = self._page = None

    def abort(self) -> None:
        """A print past its time limit: kill this printer's browser (and playwright's driver, or the Chromium
        of a file-by-file print) and abandon its thread; the next print starts a fresh browser."""
        self._epoch += 1
        try:
            import psutil

            me = psutil.Process()
            for proc in me.children(recursive=True):
                try:
                    cmd = " ".join(proc.cmdline())
                except psutil.Error:
                    continue
                if self.chromium in cmd or "playwright" in cmd:
                    for p in [*proc.children(recursive=True), proc]:
                        with contextlib.suppress(psutil.Error):
                            p.kill()
        except ImportError:  # pragma: no cover - psutil is a dependency
            pass
        old, self._pool = self._pool, ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-pdf")
        old.shutdown(wait=False, cancel_futures=True)
        self._pw = self._browser = self._page = None  # the abandoned thread's objects; never used again

    def _print(self, html: Path, target: Path, retry: bool = True, epoch: int | None = None) -> Path:
        epoch = self._epoch if epoch is None else epoch
        self._start()
        if epoch != self._epoch:
            raise RenderError(f"Đã dừng in {html.name} sang PDF (quá thời gian).")
        if self.fallback:
            return to_pdf(html, target, self.chromium, timeout=int(self.timeout))
        try:
            if self._page is None or self._page.is_closed():
                # One tab for every report: a report is a static page (no scripts), so opening the next one
                # in the same tab leaves nothing behind, and costs half what a fresh tab does.
                context = self._browser.new_context()
                context.route(NOT_LOCAL, lambda route: route.abort())  # a report needs nothing from outside
                self._page = context.new_page()
            self._page.goto(html.resolve().as_uri(), wait_until="load", timeout=self.timeout * 1000)
            pdf = self._page.pdf(prefer_css_page_size=True, print_background=True)
        except Exception as exc:
            if epoch != self._epoch:  # aborted: this thread's browser was killed on purpose
                raise RenderError(f"Đã dừng in {html.name} sang PDF (quá thời gian).") from None
            self._page = None
            if retry and not (self._browser and self._browser.is_connected()):  # the browser died: once more
                self._stop()
                return self._print(html, target, retry=False, epoch=epoch)
            raise RenderError(f"Chromium không in được {html.name} sang PDF: {type(exc).__name__}: "
                              f"{str(exc).strip()[:400]}") from None
        if not pdf.startswith(b"%PDF"):
            raise RenderError(f"Chromium không in được {html.name} sang PDF: kết quả không phải tệp PDF.")
        write_atomic(target, pdf)
        return target

    def submit(self, html: Path, target: Path) -> Future:
        """Queue one HTML file for printing to `target`; the Future gives the PDF's path or a RenderError."""
        return self._pool.submit(self._print, Path(html), Path(target))

    def print(self, html: Path, target: Path, time_limit: float | None = None) -> Path:
        """The PDF's path; past `time_limit` seconds the browser is killed (abort) and RenderError raised."""
        from concurrent.futures import TimeoutError as FutureTimeout

        fut = self.submit(html, target)
        try:
            return fut.result(timeout=time_limit)
        except FutureTimeout:
            self.abort()
            raise RenderError(f"Quá thời gian: in {Path(html).name} sang PDF chưa xong sau {time_limit:g} giây "
                              f"nên bị dừng (trình duyệt bị treo?).") from None

    def close(self) -> None:
        try:
            self._pool.submit(self._stop).result()
        finally:
            self._pool.shutdown(wait=True)
