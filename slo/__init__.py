"""SLO specs (spec, model), grading (grade) and the release-gate decision (gate)."""
