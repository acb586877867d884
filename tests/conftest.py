"""Shared fixtures: the real plan, and loading one case of the bad-file corpus into a fresh data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpi.plan import load_plan
from kpi.validate import load_submissions

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = FIXTURES / "files"


@pytest.fixture(scope="session")
def plan():
    return load_plan()


@pytest.fixture
def load_case(tmp_path, plan):
    """Copy one corpus case (a file, or a folder whose files sit at the submissions root) and load it."""

    def load(name: str):
        src = FILES / name
        dest = tmp_path / "submissions"
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
        return load_submissions(tmp_path, plan)

    return load
