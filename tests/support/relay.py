"""A delaying TCP relay, for paths with a known latency where the kernel has no ``netem`` qdisc.

    python -m tests.support.relay --listen 127.0.0.1:8001 --to 10.231.0.1:8000 --delay-ms 40

Every byte received from either side is forwarded after ``--delay-ms`` milliseconds, in order,
so a request and its response each take the delay once: a round trip gains twice the delay, as
netem's ``delay`` on both directions would add. Bytes are not held back behind each other (a
chunk read at t leaves at t + delay whatever came before), so the relay adds latency, not a
bandwidth limit. Run inside a network namespace it listens on that namespace's own address or
loopback; it forwards only to ``--to``. It prints ``ready`` once it listens, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

__all__ = ["relay", "main"]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay_s`` after it arrived; EOF too."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay_s, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()


async def relay(listen: tuple[str, int], to: tuple[str, int], delay_ms: float) -> asyncio.Server:
    """Start the relay; each connection is forwarded to ``to`` with ``delay_ms`` each way."""
    delay_s = delay_ms / 1000.0

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*to)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_pipe(client_r, server_w, delay_s), _pipe(server_r, client_w, delay_s))
        finally:
            for w in (client_w, server_w):
                w.close()

    return await asyncio.start_server(handle, *listen, reuse_address=True, backlog=512)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def _serve(args: argparse.Namespace) -> None:
    server = await relay(_address(args.listen), _address(args.to), args.delay_ms)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relay", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listen", required=True, metavar="HOST:PORT")
    parser.add_argument("--to", required=True, metavar="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    asyncio.run(_serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
