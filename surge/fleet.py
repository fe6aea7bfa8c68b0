"""The processes behind the surge's webhook: decree-bot workers, or the peer's.

decree-bot runs exactly as an operator runs it (`python -m bot webhook`, the soak's
`Worker`), logging at INFO (DEBUG would cost more than the bot). The peer runs
`python -m surge.peer_bot` in the peers' venv. Both die with the surge (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from soak.workers import ROOT, Worker, _die_with_parent

__all__ = ["BotWorker", "ForwarderProcess", "PeerWorker", "peer_python"]

_LOOPBACK = "127.0.0.1"


def peer_python() -> Path | None:
    """The peers' interpreter (`make surge-peers`), or None when it is not installed."""
    path = Path(
        os.environ.get("DECREEBOT_SURGE_PEER_PYTHON", ROOT / ".venv/surge-peers/bin/python")
    )
    return path if path.exists() else None


@dataclass
class BotWorker(Worker):
    """A decree-bot webhook worker at INFO level (no cap of its own: issue 18), answering
    the webhook early when `early` (`DECREEBOT_WEBHOOK_EARLY_ANSWERS`)."""

    early: bool = False

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env["DECREEBOT_LOG_LEVEL"] = "INFO"
        env["DECREEBOT_WEBHOOK_EARLY_ANSWERS"] = "true" if self.early else "false"
        return env


@dataclass
class PeerWorker:
    """One peer process (`surge.peer_bot`) on its own loopback port."""

    name: str
    port: int
    python: Path
    env: dict[str, str]
    log_path: Path  # its stderr: the peer logs warnings and errors only
    _proc: asyncio.subprocess.Process | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{_LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self._log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SURGE_", "DECREEBOT_"))}
        env |= self.env | {"SURGE_PORT": str(self.port), "NO_PROXY": "*"}
        self._proc = await asyncio.create_subprocess_exec(
            str(self.python),
            "-m",
            "surge.peer_bot",
            env=env,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=_die_with_parent(),
        )
        await self._wait_listening(30.0)

    async def _wait_listening(self, timeout: float) -> None:  # noqa: ASYNC109 - start-up deadline
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._proc is None or self._proc.returncode is not None:
                    msg = f"{self.name} exited during start-up; see {self.log_path}"
                    raise RuntimeError(msg)
                with contextlib.suppress(httpx.HTTPError):
                    await client.get(self.url)  # any HTTP answer: the server listens
                    return
                await asyncio.sleep(0.1)
        msg = f"{self.name} not listening after {timeout}s; see {self.log_path}"
        raise RuntimeError(msg)

    async def stop(self) -> int | None:
        proc, self._proc = self._proc, None
        code: int | None = None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        elif proc is not None:
            code = proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code


@dataclass
class ForwarderProcess:
    """The soak's round-robin forwarder, in its own process (`surge.forward`)."""

    targets: list[str]
    port: int = 0
    _proc: asyncio.subprocess.Process | None = None

    def url(self, path: str) -> str:
        return f"http://{_LOOPBACK}:{self.port}{path}"

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "surge.forward",
            *self.targets,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent(),
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), 30)
        if not line.strip().isdigit():
            msg = "the forwarder did not start"
            raise RuntimeError(msg)
        self.port = int(line)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
