"""The garbage collector of a Locust process that sends load: collect the young generation less often.

CPython collects its youngest generation each time 700 more container objects have been made
than freed, and its counter never goes below zero, so the objects of the requests in flight
(each busy user's response, headers and context) push it over 700 again and again although they
are freed a moment later. Each collection then moves the requests still in
flight into the older generations, and their growth sets off full collections, which walk every
object the process holds (Locust's, gevent's and every API key's state).

Measured with the flat-out mix on one core (``bench/bench_loadgen.py``'s configuration, 14 s runs,
three alternations): at the default threshold 1,947 to 2,305 young and 12 to 14 full collections
(about 40 ms each, a pause of the whole process that every request in flight also waits out),
0.9 to 1.0 CPU-seconds in all; at 20,000, 3 or 4 young collections and no full one (0.02 s), and
4,361, 5,159 and 6,222 req per CPU-second against 4,101, 4,641 and 4,790. Garbage in reference
cycles is still collected, a little later: the young generation holds at most 20,000 objects more.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "install"]

#: Container objects made (net) between two collections of the young generation (CPython's default is 700).
YOUNG_THRESHOLD = 20_000


def install() -> None:
    """Raise the young generation's threshold to ``YOUNG_THRESHOLD``; a higher one set by the
    locustfile, the older generations' thresholds, and a collector switched off are left as they are."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
