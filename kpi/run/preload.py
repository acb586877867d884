"""Imported once by the workers' fork server (kpi.run.workers.PRELOAD), before any worker is forked from it:
what every report needs, its templates compiled."""

import papermill.engines  # noqa: F401 (its registry loads the kit's engine, kpi.run.engine, by its entry point)

from kpi.report import templates
from kpi.run import job  # noqa: F401

templates.compile_reports()
