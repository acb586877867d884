"""pyproject.toml pins and environment.yml agree, package by package."""

from __future__ import annotations

import re
import tomllib

import yaml

from kpi.core import paths


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    pins = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^;\s]+)", spec.strip())
        assert m, f"pyproject.toml: '{spec}' is not pinned with =="
        pins[re.sub(r"\[.*\]", "", m.group(1)).lower().replace("_", "-")] = m.group(2)
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a pip: section
            for spec in dep.get("pip", []):
                name, version = spec.split("==")
                pins[name.strip().lower().replace("_", "-")] = version.strip()
            continue
        if "=" in dep:
            name, version = dep.split("=", 1)
            pins[name.strip().lower().replace("_", "-")] = version.lstrip("=").strip()
    return pins


def test_environment_yml_mirrors_pyproject_pins():
    py, conda = _pyproject_pins(), _conda_pins()
    conda.pop("python", None)
    assert py == conda


def test_every_dependency_is_pinned():
    assert all(re.fullmatch(r"\d+(\.\d+)*", v) for v in _pyproject_pins().values())


def test_jsonschema_is_imported_without_its_iri_parser_and_the_parser_still_imports_on_request():
    """kpi/__init__.py: a worker, a kernel or a run that imports jsonschema (nbformat does) does not build
    rfc3987_syntax's parser (about 0.85 s each); code that asks for rfc3987_syntax itself still gets it."""
    import subprocess
    import sys

    code = ("import sys, kpi, nbformat, jsonschema; print('rfc3987_syntax' in sys.modules); "
            "import rfc3987_syntax; print(rfc3987_syntax.is_valid_syntax('iri', 'https://xã.vn/bao-cao'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
