"""papermill's engine `kpi` (the `papermill.engine` entry point in pyproject.toml): the notebook's cells run in
this process, in an IPython shell whose namespace is new for every report, their outputs recorded as nbclient
records a kernel's (display data, results, streams, errors with their traceback); what a report can leave behind
(matplotlib's figures and settings, the working folder, the environment, the warning filters) is put back after
it. `kpi run --engine kernel` uses papermill's own engine. papermill's registry imports this module (the entry
point): take the engine from it (`papermill.engines.papermill_engines.get_engine("kpi")`)."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine

LANGUAGE_INFO = {"name": "python", "mimetype": "text/x-python", "file_extension": ".py",
                 "codemirror_mode": {"name": "ipython", "version": 3}, "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3"}


class _Stream:
    """sys.stdout or sys.stderr during a cell: consecutive writes make one stream output, as a kernel's do."""

    def __init__(self, shell: "Shell", name: str):
        self.shell, self.name, self.encoding = shell, name, "utf-8"

    def write(self, text: str) -> int:
        outs = self.shell.outputs
        if outs and outs[-1].output_type == "stream" and outs[-1].name == self.name:
            outs[-1].text += text
        elif text:
            outs.append(nbformat.v4.new_output("stream", name=self.name, text=text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class _Results(DisplayHook):
    """The value of a cell's last expression, as an execute_result output (ipykernel's ZMQShellDisplayHook)."""

    def start_displayhook(self) -> None:
        self.data, self.metadata = {}, {}

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        self.data, self.metadata = format_dict, md_dict or {}

    def finish_displayhook(self) -> None:
        if self.data:
            self.shell.outputs.append(nbformat.v4.new_output(
                "execute_result", data=self.data, metadata=self.metadata, execution_count=self.prompt_count))


class _Displays(DisplayPublisher):
    """display(...) as display_data outputs; clear_output() empties the cell's outputs."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
        self.shell.outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata or {}))

    def clear_output(self, wait=False) -> None:
        self.shell.outputs.clear()


class Shell(InteractiveShell):
    """The worker's one shell; `outputs` is the list the running cell's outputs go to."""

    outputs: list = []

    def init_displayhook(self) -> None:
        from IPython.core.display_trap import DisplayTrap

        self.displayhook = _Results(shell=self, cache_size=self.cache_size, parent=self)
        self.configurables.append(self.displayhook)
        self.display_trap = DisplayTrap(hook=self.displayhook)

    def init_display_pub(self) -> None:
        self.display_pub = _Displays(shell=self, parent=self)
        self.configurables.append(self.display_pub)

    def _showtraceback(self, etype, evalue, stb) -> None:
        self.outputs.append(nbformat.v4.new_output("error", ename=str(etype.__name__), evalue=str(evalue),
                                                   traceback=stb))

    def run(self, source: str) -> tuple[list, bool]:
        """Run one cell: (its outputs, whether it ended without an error)."""
        self.outputs = []
        saved = sys.stdout, sys.stderr, sys.displayhook
        sys.stdout, sys.stderr, sys.displayhook = _Stream(self, "stdout"), _Stream(self, "stderr"), self.displayhook
        try:
            result = self.run_cell(source, store_history=True)
        finally:
            sys.stdout, sys.stderr, sys.displayhook = saved
        return self.outputs, result.success


def shell() -> Shell:
    """The worker's shell (made once: history kept in memory only, no file, no thread)."""
    from traitlets.config import Config

    if not Shell.initialized():
        config = Config()
        config.HistoryManager.enabled = False
        from ipykernel.compiler import XCachingCompiler  # a kernel's cell file names: /tmp/ipykernel_<pid>/<n>.py

        Shell.instance(config=config, compiler_class=XCachingCompiler)
    return Shell.instance()


@contextlib.contextmanager
def clean_slate():
    """A report runs from a fresh namespace and leaves nothing behind: the working folder, the environment, the
    warning filters, matplotlib's settings and open figures, sys's __main__ and hooks are as they were before it.
    The namespace is reset once, after each report (the shell is new in a new worker), not again before the next."""
    saved_sys = sys.modules.get("__main__"), sys.excepthook, sys.displayhook
    sh = shell()
    sh.execution_count = 1
    sys.modules["__main__"] = sh.user_module  # as in a kernel: pickle and the like find the notebook's names
    cwd, env, filters = os.getcwd(), dict(os.environ), list(warnings.filters)
    mpl = sys.modules.get("matplotlib")
    rc = dict(mpl.rcParams) if mpl else None
    try:
        yield sh
    finally:
        sh.reset(new_session=False)
        sys.modules["__main__"], sys.excepthook, sys.displayhook = saved_sys
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        warnings.filters[:] = filters
        mpl = sys.modules.get("matplotlib")
        if mpl is not None:
            import matplotlib.pyplot as plt

            plt.close("all")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mpl.rcParams.clear()
                mpl.rcParams.update(rc if rc is not None else mpl.rcParamsDefault)


class InWorkerEngine(Engine):
    """The cells run here one after another, stopping at the first error as with nbclient (papermill then raises
    PapermillExecutionError naming the cell). The report's time limit is the worker's (kpi.run.workers)."""

    @classmethod
    def nb_kernel_name(cls, nb, name=None) -> str:
        return name or nb.metadata.get("kernelspec", {}).get("name", "python3")  # named only, never started

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        with clean_slate() as sh:
            for index, cell in enumerate(nb_man.nb.cells):
                try:
                    nb_man.cell_start(cell, index)
                    if cell.cell_type == "code":
                        count = sh.execution_count
                        cell.outputs, ok = sh.run(cell.source)
                        cell.execution_count = count
                        if not ok:
                            nb_man.cell_exception(cell, cell_index=index)
                            break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)
        nb_man.nb.metadata["language_info"] = {**LANGUAGE_INFO, "version": ".".join(map(str, sys.version_info[:3]))}
        return nb_man.nb
