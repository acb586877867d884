"""Reading the units' files, the template format, the rules, submissions, the cache."""
