"""``python -m demo_api --port P``: serve the demo API with uvicorn (uvloop + httptools) on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from contract.keys import KeysError, read_keys
from demo_api.app import Settings, create_app


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def _burst(text: str) -> tuple[float, float]:
    """``START_S:LENGTH_S``: an error burst's start (seconds after the server started) and length."""
    start, sep, length = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return _seconds(start), _seconds(length)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START_S:LENGTH_S in seconds, e.g. 12:0.5, got {text}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--cache-ttl", type=float, default=300.0, metavar="SECONDS", help="0 disables the cache")
    parser.add_argument("--db-delay-ms", type=float, default=3.0, help="simulated database time on a cache miss")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="server-side request timeout")
    parser.add_argument("--keep-alive", type=_seconds, default=75.0, metavar="SECONDS",
                        help="idle keep-alive connections are closed after this long (nginx's default)")
    parser.add_argument("--slow-fraction", type=_fraction, default=0.0, help="fraction of /api requests delayed")
    parser.add_argument("--slow-ms", type=float, default=0.0, help="delay of a slow request")
    parser.add_argument("--error-fraction", type=_fraction, default=0.0, help="fraction of /api requests answered 503")
    parser.add_argument("--error-burst", type=_burst, default=(0.0, 0.0), metavar="START_S:LENGTH_S",
                        help="answer every /api request 503 for LENGTH_S seconds from START_S after the start")
    parser.add_argument("--stall-every", type=_seconds, default=0.0, metavar="SECONDS",
                        help="stop the whole server every this many seconds (0: never)")
    parser.add_argument("--stall-ms", type=_seconds, default=0.0, metavar="MS", help="how long each stall lasts")
    parser.add_argument("--capacity", type=float, default=0.0, metavar="R",
                        help="serve at most R /api requests a second and queue the rest (0: no such limit)")
    parser.add_argument("--keys", metavar="FILE",
                        help="accept only the keys of this CSV (header tier,key), with their tiers; "
                             "default: the generated demo keys such as pro-000042")
    parser.add_argument("--seed", type=int, default=1,
                        help="the data's seed: processes with the same seed serve the same data, ETags and cursors")
    parser.add_argument("--instance", type=int, default=0,
                        help="this process's number behind a front: seeds only the injected faults' draws")
    args = parser.parse_args(argv)
    keys = None
    if args.keys:
        try:
            pool = read_keys(args.keys)
        except KeysError as exc:
            sys.stderr.write(f"python -m demo_api: {exc}\n")
            return 2
        keys = {key: tier for tier, found in pool.keys.items() for key in found}
    settings = Settings(cache_ttl_s=args.cache_ttl, db_delay_ms=args.db_delay_ms, request_timeout_s=args.timeout,
                        slow_fraction=args.slow_fraction, slow_ms=args.slow_ms, error_fraction=args.error_fraction,
                        seed=args.seed, instance=args.instance, keys=keys, stall_every_s=args.stall_every,
                        stall_ms=args.stall_ms,
                        capacity_rps=max(0.0, args.capacity), error_burst_start_s=args.error_burst[0],
                        error_burst_s=args.error_burst[1])
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", access_log=False,
                loop="uvloop", http="httptools", lifespan="off", timeout_keep_alive=args.keep_alive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
