"""loadgate's Locust scenarios: tiered API users hitting cached, paginated and batch endpoints.

Plain Locust runs it, with loadgate's options added (``locust -f locustfile.py --help``)::

    locust -f locustfile.py --host http://127.0.0.1:8000 --headless --lg-rate 200 --lg-duration 60
    locust -f locustfile.py --host ... --headless --processes 2
    locust -f locustfile.py --master ...   /   locust -f locustfile.py --worker --master-host ...

``loadgate run`` and ``loadgate demo`` start it the same way, as a subprocess.
"""

from scenarios.hooks import LoadGateShape, install
from scenarios.users import USER_CLASSES, ClientUser

install()

# Locust finds user classes and the shape among this module's names.
globals().update({cls.__name__: cls for cls in USER_CLASSES.values()})
__all__ = ["LoadGateShape", "ClientUser", *(cls.__name__ for cls in USER_CLASSES.values())]
