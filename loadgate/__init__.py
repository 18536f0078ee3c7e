"""loadgate: Locust load tests graded against SLOs from Prometheus, with release-gate exit codes."""
