"""Locust scenarios: tiered users, tasks and load shapes (arriving with the traffic issue)."""
