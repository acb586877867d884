"""JupyterLab for the analyst: notebooks saved without outputs, so exploring never dirties the repository."""

from __future__ import annotations


def strip_outputs(model: dict, **_: object) -> None:
    """`ContentsManager.pre_save_hook`: a notebook is written to disk without outputs or execution counts.
    The analyst still sees the outputs in the open tab; what lands in the file (and in git) is the code."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    for cell in model["content"].get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
