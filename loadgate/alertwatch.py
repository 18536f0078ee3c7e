"""Polls a local Prometheus's ``/api/v1/alerts`` once a second in a thread, for ``--alert-rules``.

``with AlertWatcher(url) as watch: ...; watch.polls`` holds every answer (``slo.alerts.Poll``);
``watch.answered`` counts the polls that got one, so "no alert fired" is told from "Prometheus
never answered".
"""

from __future__ import annotations

import threading
import time

import requests

from slo.alerts import Poll, alert_key

__all__ = ["AlertWatcher"]


class AlertWatcher:
    """Background poller of one Prometheus's alerts; stopped on the way out of the ``with``."""

    def __init__(self, url: str, interval_s: float = 1.0):
        self.url = url.rstrip("/")
        self.interval_s = interval_s
        self.polls: list[Poll] = []
        self.answered = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loadgate-alerts", daemon=True)

    def poll_once(self) -> None:
        try:
            answer = requests.get(f"{self.url}/api/v1/alerts", timeout=2).json()
            alerts = answer["data"]["alerts"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            self.errors += 1
            return
        self.answered += 1
        firing = tuple({str(k): str(v) for k, v in a.get("labels", {}).items()} for a in alerts
                       if a.get("state") == "firing")
        self.polls.append(Poll(time.time(), firing))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    def firing_now(self) -> str:
        """``  alerts: error_rate:page, availability:ticket`` as of the last poll, or "" when none fire."""
        if not self.polls or not self.polls[-1].firing:
            return ""
        names = sorted({f"{key[1] or '?'}:{key[2] or '?'}" for key in map(alert_key, self.polls[-1].firing)})
        return "  alerts: " + ", ".join(names)

    def start(self) -> "AlertWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (once; later calls do nothing), after one last poll of the state at the end."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll_once()

    def __enter__(self) -> "AlertWatcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
