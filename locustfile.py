"""loadgate's Locust scenarios: tiered API clients hitting cached, paginated and batch endpoints.

Plain Locust runs it, with loadgate's options added (``locust -f locustfile.py --help``)::

    locust -f locustfile.py --host http://127.0.0.1:8000 --headless --lg-rate 200 -t 60s
    locust -f locustfile.py --host ... --headless --processes 2
    locust -f locustfile.py --master ...   /   locust -f locustfile.py --worker --master-host ...

``-u`` is the concurrency (default: sized from ``--lg-rate``), ``-t`` ends the run, and the web
UI's start form sets both and ``lg_rate``. ``loadgate run`` and ``loadgate demo`` start it the
same way, as a subprocess. A QA team's own scenarios run with ``scenarios/plugin.py`` instead.
"""

from scenarios.plugin import LoadGateShape
from scenarios.users import ClientUser

# Locust finds the user class and the shape among this module's names.
__all__ = ["LoadGateShape", "ClientUser"]
