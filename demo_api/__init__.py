"""The reference service under test (arriving with the traffic issue)."""
