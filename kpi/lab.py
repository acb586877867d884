"""JupyterLab for the analyst: notebooks saved as committed (no outputs, no kernel's version), so exploring never
dirties the repository."""

from __future__ import annotations


def strip_outputs(model: dict, **_: object) -> None:
    """`ContentsManager.pre_save_hook`: a notebook is written to disk without outputs or execution counts, and
    with only the name of its kernel's language (JupyterLab adds the running Python's version, which differs from
    one machine to the next). The analyst still sees the outputs in the open tab; what lands in the file (and in
    git) is the code, byte for byte as committed (tests/test_notebook.py saves each one through this hook)."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    content = model["content"]
    for cell in content.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    meta = content.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("language_info"), dict):
        meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
