"""SLO specs (spec, model), grading (grade, evaluate), the gate decision (gate), baselines (compare) and the record."""
