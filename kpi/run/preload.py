"""Imported once by the workers' fork server (kpi.run.workers), before any worker is forked from it: what every
report needs, its templates compiled, and then everything it made frozen out of the garbage collector's way."""

import gc

import nbconvert  # noqa: F401
import papermill.engines  # noqa: F401 (its registry loads the kit's engine, kpi.run.engine, by its entry point)

from kpi.outputs import docx_report  # noqa: F401
from kpi.report import charts, period_views, province_views, templates, views, views_notes  # noqa: F401
from kpi.run import engine, job, workers  # noqa: F401

templates.compile_reports()
engine.shell()  # the workers' one IPython shell, made once here (with the completer and inspector it imports)
import matplotlib.backends.backend_agg, matplotlib.backends.backend_svg  # noqa: E401,E402,F401 (every chart's)
# The imported modules' objects (pandas, matplotlib, IPython, nbconvert: about a million) live as long as the worker
# and hold no garbage. Frozen, a full collection - IPython's shell makes one at each reset, once a report - walks
# only what the report made, and a worker's pages stay shared with the server instead of being copied when the
# collector would mark them.
gc.freeze()
