"""Commune KPI reporting kit: plan, submissions, indicators, reports."""

import sys as _sys

__version__ = "0.1.0"


class _NoIriParser:
    """jsonschema imports its optional IRI-format helper rfc3987_syntax when it is installed (jupyterlab's
    dependencies install it), and that helper builds an Earley parser at import: about 0.85 s of CPU in every
    process that imports jsonschema (nbformat does, so every batch worker; the plan and the manifest checks do,
    so every run). Nothing the kit validates has an IRI format, so while jsonschema's format module is being
    imported the helper is reported missing; any other import of rfc3987_syntax, later, works as usual."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "rfc3987_syntax":
            spec = getattr(_sys.modules.get("jsonschema._format"), "__spec__", None)
            if getattr(spec, "_initializing", False):
                raise ImportError("rfc3987_syntax is not needed by the kit's schemas")
        return None


if _NoIriParser not in _sys.meta_path:
    _sys.meta_path.insert(0, _NoIriParser)
