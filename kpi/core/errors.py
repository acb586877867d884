"""Every error the kit raises on purpose, under one root. Imports nothing of the kit: any module may raise these.

Each class carries its exit code; `kpi.cli` maps the root class to its message and code in one place. The
message is Vietnamese and says how to fix what is wrong."""

from __future__ import annotations

EXIT_FAILED = 1  # a report or an output failed (the others are still made)
EXIT_USAGE = 2  # what the user must fix before running: a parameter, the plan, a folder
EXIT_BUSY = 3  # another run holds the output folder


class KpiError(Exception):
    """The root: a fault the kit recognises, with a Vietnamese message and an exit code."""

    exit_code = EXIT_USAGE


class UsageError(KpiError, ValueError):
    """A command-line value the kit refuses (the message says what to write instead)."""


class ParameterError(KpiError, ValueError):
    """A report parameter outside what the plan allows (period, unit, language, a path)."""


class PeriodError(KpiError, ValueError):
    """A period the kit cannot read, outside the plan year, or not ended yet; says which forms are allowed."""


class PlanError(KpiError, ValueError):
    """The plan file is not valid; the message lists every problem with its line."""


class OutputLocked(KpiError, RuntimeError):
    """Another run holds the output folder's lock."""

    exit_code = EXIT_BUSY


class ClusterUnavailable(KpiError, RuntimeError):
    """The Dask scheduler cannot be reached (or dask is not installed); the message says what to check."""


class ClusterFailed(ClusterUnavailable):
    """The cluster was reached but could not do the work (e.g. a worker does not see the shared data folder)."""


class RenderError(KpiError, RuntimeError):
    """Rendering a report failed; the message says which file and why."""

    exit_code = EXIT_FAILED


class ExcelError(KpiError, RuntimeError):
    """An Excel file could not be made; the message names it."""

    exit_code = EXIT_FAILED


class SchemaError(KpiError, TypeError):
    """A frame does not have its declared shape; lists every column at fault (a fault of the kit itself)."""

    exit_code = EXIT_FAILED


class InputRefused(KpiError):
    """A submission file (or one sheet of it) the kit refuses to read; carries the Problem to report."""

    def __init__(self, problem):
        super().__init__(problem.message)
        self.problem = problem


class EncodingProblem(KpiError, ValueError):
    """A CSV file whose text encoding cannot be read."""


class PackageRefused(KpiError, ValueError):
    """A commune's data package the province does not roll up (a size, a member name, a link, a signature…); the
    message names the package and the reason. Caught per package: the other packages are still rolled up."""

    exit_code = EXIT_FAILED
