"""The essential work of the month's reports, for benchmarks/run.py: the master notebook's code cells executed with
exec() in ONE process, for every unit, without a kernel, HTML or PDF (the figure the batch's CPU is compared with).

Per report: the parameters cell, then the parameters the batch injects (as kpi/run/job.py `execute` gives them to
papermill), then every other code cell; where a cell ends with an expression, its value is formatted as a kernel
would: `_repr_mimebundle_` when the object has one, else its `_repr_html_`, `_repr_svg_`, `_repr_markdown_`,
`_repr_png_` and `repr()`, so the charts are encoded (SVG) and the views rendered (HTML). IPython's `display` is
replaced by the same formatting. Matplotlib draws with the Agg backend.

CPU is this process's own (resource.getrusage RUSAGE_SELF, user + system): the imports once (what the notebook's first
code cell imports, with pandas, matplotlib and seaborn), then each report.

Usage: python benchmarks/essential.py --data DIR --out PERIOD_DIR [--period 2026-11] [--units commune,vhxh,...]
       [--lang vi] [--made-on YYYY-MM-DD]
Prints one JSON line: {"imports_cpu", "reports": {unit: {"cpu", "wall", "outputs", "svg_bytes", "html_bytes"}}, ...}.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = ("commune", "vhxh", "kt", "ttpvhcc", "ca")
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def injected(period: str, unit: str, data_dir: str | Path, plan_path: str | Path, output_dir: str | Path, lang: str,
             made_on: str) -> dict:
    """The master notebook's parameters as kpi/run/job.py `execute` builds them for papermill."""
    return {"period": period, "unit": unit, "data_dir": str(Path(data_dir).resolve()),
            "plan_path": str(Path(plan_path).resolve()), "output_dir": str(Path(output_dir).resolve()),
            "lang": lang, "made_on": made_on}


def code_cells(notebook: Path) -> tuple[str, list[str]]:
    """(the parameters cell, the other code cells) of a notebook, in order."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    params, others = "", []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            params = src
        else:
            others.append(src)
    return params, others


def compiled(src: str, name: str):
    """A cell as (body, last expression or None), as IPython runs it with ast_node_interactivity='last_expr'."""
    tree = ast.parse(src, name)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = compile(ast.Expression(tree.body.pop().value), name, "eval")
    return compile(tree, name, "exec"), last


class Outputs:
    """What the cells show, formatted as a kernel's display formatter would (the encoding work is done)."""

    RICH = ("_repr_html_", "_repr_svg_", "_repr_markdown_", "_repr_png_")

    def __init__(self):
        self.count = self.svg_bytes = self.html_bytes = 0

    def show(self, *objs, **_kw) -> None:
        for obj in objs:
            if obj is None:
                continue
            self.count += 1
            bundle = {}
            if hasattr(obj, "_repr_mimebundle_"):
                got = obj._repr_mimebundle_()
                bundle = dict(got[0] if isinstance(got, tuple) else got)
            else:
                for name in self.RICH:
                    method = getattr(obj, name, None)
                    if callable(method):
                        value = method()
                        if value is not None:
                            bundle[name] = value
                bundle.setdefault("text/plain", repr(obj))
            for key, value in bundle.items():
                size = len(value) if isinstance(value, (str, bytes)) else 0
                if "svg" in key:
                    self.svg_bytes += size
                elif "html" in key:
                    self.html_bytes += size
                    self.svg_bytes += sum(len(m) for m in SVG.findall(value)) if isinstance(value, str) else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="the period's output folder the batch passes as output_dir")
    ap.add_argument("--period", default="2026-11")
    ap.add_argument("--units", default=",".join(UNITS))
    ap.add_argument("--lang", default="vi")
    ap.add_argument("--made-on", default=dt.date.today().isoformat())
    ap.add_argument("--notebook", default=str(ROOT / "notebooks" / "monthly_report.ipynb"))
    ap.add_argument("--plan", default=str(ROOT / "params" / "plan_2026.yml"))
    args = ap.parse_args()

    os.environ["MPLBACKEND"] = "Agg"
    sys.path.insert(0, str(ROOT))
    params_src, cells = code_cells(Path(args.notebook))
    programs = [compiled(src, f"<cell {k}>") for k, src in enumerate(cells, 1)]
    os.chdir(ROOT / "notebooks")  # where papermill runs the kernel (kpi/run/job.py: cwd=paths.NOTEBOOKS_DIR)

    c0, w0 = cpu(), time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display
    import pandas  # noqa: F401
    import seaborn  # noqa: F401

    # the imports of the notebook's code cells (the first one: `from kpi import report` ...)
    for src in cells:
        for node in ast.parse(src).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                exec(compile(ast.Module([node], []), "<imports>", "exec"), {})
    imports_cpu, imports_wall = cpu() - c0, time.perf_counter() - w0

    reports = {}
    for unit in args.units.split(","):
        out = Outputs()
        IPython.display.display = out.show
        try:
            import IPython.core.display_functions as display_functions

            display_functions.display = out.show
        except ImportError:
            pass
        ns = {"__name__": "__main__", "display": out.show}
        c1, w1 = cpu(), time.perf_counter()
        exec(compile(params_src, "<parameters>", "exec"), ns)
        ns.update(injected(args.period, unit, args.data, args.plan, args.out, args.lang, args.made_on))
        for body, last in programs:
            exec(body, ns)
            if last is not None:
                out.show(eval(last, ns))
        import matplotlib.pyplot as plt

        plt.close("all")
        reports[unit] = {"cpu": cpu() - c1, "wall": time.perf_counter() - w1, "outputs": out.count,
                         "svg_bytes": out.svg_bytes, "html_bytes": out.html_bytes}
    print(json.dumps({"imports_cpu": imports_cpu, "imports_wall": imports_wall, "reports": reports,
                      "total_cpu": cpu(), "period": args.period}))


if __name__ == "__main__":
    main()
