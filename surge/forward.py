"""The soak's forwarder in a process of its own: `python -m surge.forward TARGET...`.

The surge's own process already plays the fake Bot API and thousands of people; the
forwarder's HTTP work on top would make that one process, not the bot, the bottleneck. It
prints its port on the first line of stdout, then serves until it gets SIGTERM (or the
surge dies).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from soak.forwarder import Forwarder


async def serve(targets: list[str]) -> None:
    forwarder = Forwarder(targets)
    await forwarder.start()
    sys.stdout.write(f"{forwarder.port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await forwarder.stop()


if __name__ == "__main__":
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]  # see surge._skip_sniffio
    asyncio.run(serve(sys.argv[1:]))
