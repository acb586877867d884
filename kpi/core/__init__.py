"""Errors, files, paths, periods, words and formats: imports nothing above it."""
