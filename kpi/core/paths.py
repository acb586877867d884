"""The one place that knows the project's paths; environment variables move data and outputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # kpi/core/paths.py -> the project
PARAMS_DIR = ROOT / "params"
NOTEBOOKS_DIR = ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

# The plan of the sample data (data/sample); a period's own plan is found by plan_for_year.
SAMPLE_PLAN = PARAMS_DIR / "plan_2026.yml"
PLAN_FILE = Path(os.environ.get("KPI_PLAN", SAMPLE_PLAN))
PLAN_NAMED = "KPI_PLAN" in os.environ  # then only that plan's year runs
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


def commune_id(data_dir: Path) -> str:
    """The commune's id: the name of its data folder (as the province plan lists it)."""
    return Path(data_dir).resolve().name


def key_file(commune_id: str, folder: Path | None = None) -> Path:
    """A commune's private signing key (kpi keys); its public half sits beside it as `.pub`."""
    return (folder or keys_dir()) / f"{commune_id}.key"


PLAN_NAME = re.compile(r"plan_(\d{4})\.ya?ml")  # plan_2027.yml: the plan of one calendar year


def plan_files(data_dir: Path | None = None) -> dict[int, Path]:
    """The plans by year: a commune's own (written by `kpi init`) in its data folder when it has any, so that its
    data is never read under another commune's plan; else params/plan_<year>.yml."""
    def found(folder: Path | None) -> dict[int, Path]:
        if folder is None or not Path(folder).is_dir():
            return {}
        return {int(m[1]): p for p in sorted(Path(folder).iterdir())
                if (m := PLAN_NAME.fullmatch(p.name)) and p.is_file()}

    return found(data_dir) or found(PARAMS_DIR)


def data_years(data_dir: Path) -> list[int]:
    """The years a data folder's submission folders name (submissions/2026-12/, submissions/2027-01/...)."""
    root = submissions_dir(data_dir)
    if not root.is_dir():
        return []
    names = (p.name for p in root.rglob("*") if p.is_dir())
    return sorted({int(n[:4]) for n in names if re.fullmatch(r"\d{4}-\d{2}", n)})


def plan_file_of(data_dir: Path, period: str = "") -> Path:
    """The plan a data folder is read under in a notebook: that of the period's year, else of the latest year of
    the folder's submissions that has a plan, else its latest plan (as `kpi` chooses for a command)."""
    plans = plan_files(data_dir)
    with_plan = [y for y in data_years(data_dir) if y in plans]
    year = int(period[:4]) if period[:4].isdigit() else max(with_plan or plans or [0])
    return plan_file_for(year, data_dir)


def plan_file_for(year: int, data_dir: Path | None = None) -> Path:
    """The plan of one year: $KPI_PLAN when set (then it is the only plan), else plan_<year>.yml from the data
    folder or params/ (plan_files), else the sample's plan."""
    if PLAN_NAMED:
        return PLAN_FILE
    return plan_files(data_dir).get(year, PLAN_FILE)
