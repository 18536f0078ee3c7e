"""Pull SLI series from Prometheus (prom, collect) and compute SLIs from numbers (queries, sli)."""
