"""The one place that knows the project's paths; environment variables move data and outputs."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # kpi/core/paths.py -> the project
PARAMS_DIR = ROOT / "params"
NOTEBOOKS_DIR = ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

PLAN_FILE = Path(os.environ.get("KPI_PLAN", PARAMS_DIR / "plan_2026.yml"))
DATA_DIR = Path(os.environ.get("KPI_DATA", ROOT / "data" / "sample"))
OUTPUTS_DIR = Path(os.environ.get("KPI_OUT", ROOT / "outputs"))
MASTER_NOTEBOOK = NOTEBOOKS_DIR / "monthly_report.ipynb"
PROVINCE_NOTEBOOK = NOTEBOOKS_DIR / "province_report.ipynb"
KERNEL_NAME = "kpi-kit"
LOG_DIR = "logs"  # <out>/<period>/logs/: each report's log
COMMUNE_FILE = "commune.yml"  # optional, in a commune folder of a province: {commune: name, villages: [names]}


def submissions_dir(data_dir: Path) -> Path:
    """Units' files live under <data>/submissions/."""
    return Path(data_dir) / "submissions"


def period_dir(out_dir: Path, period: str) -> Path:
    """Reports of one period: <out>/<period>/."""
    return Path(out_dir) / period


def is_province_root(data_dir: Path) -> bool:
    """A province data root holds one folder per commune, each with its own submissions/ (and no
    submissions/ of its own)."""
    data_dir = Path(data_dir)
    if submissions_dir(data_dir).is_dir() or not data_dir.is_dir():
        return False
    return any(submissions_dir(p).is_dir() for p in data_dir.iterdir() if p.is_dir())


def commune_dirs(root: Path) -> list[Path]:
    """The commune folders of a province root, by name."""
    return sorted(p for p in Path(root).iterdir() if p.is_dir() and submissions_dir(p).is_dir())


def keys_dir() -> Path:
    """The folder of the communes' private signing keys (kpi.core.signing), outside the kit and its outputs: `$KPI_KEYS`,
    else the user's config folder (`$XDG_CONFIG_HOME/kpi-kit/keys`, `~/.config/kpi-kit/keys`; `%APPDATA%\\kpi-kit\\keys`
    on Windows). Read at call time, so the setting can move it."""
    if os.environ.get("KPI_KEYS"):
        return Path(os.environ["KPI_KEYS"])
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "kpi-kit" / "keys"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kpi-kit" / "keys"
