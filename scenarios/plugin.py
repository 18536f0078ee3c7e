"""loadgate's hooks and load shape without its scenarios: what a QA team's own locustfile runs with.

Locust takes several locustfiles, comma-separated, and joins their users::

    locust -f scenarios/plugin.py,my_scenarios.py --headless --host URL --lg-rate 300 -t 60s

``loadgate run --locustfile my_scenarios.py`` starts it so. Users that subclass
``scenarios.OpenModelUser`` get their arrival rate from loadgate (``--lg-rate``, ``--lg-shape``)
and latency corrected for coordinated omission; plain ``HttpUser``/``FastHttpUser`` classes run
as Locust runs them (closed loop, ``-u`` users), and the report warns that the rate was not
controlled.
"""

from scenarios.hooks import LoadGateShape, install

install()

__all__ = ["LoadGateShape"]
