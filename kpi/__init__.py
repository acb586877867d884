"""Commune KPI reporting kit: plan, submissions, indicators, reports."""

__version__ = "0.1.0"
