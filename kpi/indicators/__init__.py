"""docs/rules.md §3: every indicator from the long data."""
