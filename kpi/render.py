"""Executed notebook -> self-contained HTML (nbconvert, no code, nothing from the internet) -> A4 PDF (Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from kpi import paths, safety

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class RenderError(RuntimeError):
    """Rendering a report failed; the message says which file and why."""


def write_atomic(target: Path, data: bytes | str) -> None:
    """Write to a temporary name beside the target, then rename: no half-written file under a final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def to_html(notebook: Path, target: Path, title: str, lang: str = "vi") -> Path:
    """Render an executed notebook to one HTML file: outputs only, images inline, lang attribute set."""
    exporter = HTMLExporter(
        config=Config({"TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": ["remove-cell"]}}),
        template_name="kpi_report", extra_template_basedirs=[str(paths.TEMPLATES_DIR)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
        language_code=lang,
    )
    nb = nbformat.read(notebook, as_version=4)
    safety.stable_cell_ids(nb)  # same month, same HTML
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    write_atomic(target, body)
    return target


def find_chromium() -> str | None:
    """$KPI_CHROMIUM if set, else the first Chromium or Chrome on PATH; None when there is none."""
    named = os.environ.get("KPI_CHROMIUM")
    if named:
        return named if Path(named).exists() or shutil.which(named) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


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
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tmp.unlink(missing_ok=True)
            raise RenderError(f"Chromium không in được {html.name} sang PDF: {proc.stderr.strip()[-400:]}")
        os.replace(tmp, target)
    return target
