"""The bot's webhook processes, exactly as an operator runs them: `python -m bot webhook`.

Each worker gets its settings from the environment (loopback addresses only) and writes its
log, at DEBUG level, to a file the soak reads afterwards for crashes and personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

__all__ = ["ROOT", "Worker", "WorkerConfig"]

ROOT = Path(__file__).resolve().parents[1]
_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker shares."""

    token: str
    api_base_url: str
    redis_url: str
    key_secret: str
    webhook_secret: str
    webhook_url: str
    log_dir: Path


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook: the worker gets SIGTERM if the soak dies, so none is left behind."""
    if sys.platform != "linux":
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


def _open_log(path: Path) -> IO[bytes]:
    return path.open("ab")


@dataclass
class Worker:
    """One `python -m bot webhook` process on its own loopback port; restartable."""

    name: str
    port: int
    config: WorkerConfig
    starts: int = 0
    killed: int = 0
    exits: list[int | None] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{_LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.config.log_dir / f"{self.name}.log"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DECREEBOT_")}
        c = self.config
        env |= {
            "DECREEBOT_TOKEN": c.token,
            "DECREEBOT_API_BASE_URL": c.api_base_url,
            "DECREEBOT_REDIS_URL": c.redis_url,
            "DECREEBOT_KEY_SECRET": c.key_secret,
            "DECREEBOT_WEBHOOK_SECRET": c.webhook_secret,
            "DECREEBOT_WEBHOOK_URL": c.webhook_url,
            "DECREEBOT_LISTEN": f"{_LOOPBACK}:{self.port}",
            "DECREEBOT_LOG_LEVEL": "DEBUG",
            "NO_PROXY": "*",
        }
        return env

    async def start(self) -> None:
        """Start the process (its log is appended to) and wait until /healthz answers."""
        if self._log is None:
            self._log = _open_log(self.log_path)
        self._log.write(f"--- soak: start {self.starts + 1} of {self.name}\n".encode())
        self._log.flush()
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "webhook",
            env=self._env(),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=_die_with_parent(),
        )
        self.starts += 1
        await self.wait_healthy(30.0)

    async def wait_healthy(self, timeout: float) -> None:  # noqa: ASYNC109 - a start-up deadline
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._proc is None or self._proc.returncode is not None:
                    msg = f"{self.name} exited during start-up; see {self.log_path}"
                    raise RuntimeError(msg)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        msg = f"{self.name} not healthy after {timeout}s; see {self.log_path}"
        raise RuntimeError(msg)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up, requests in flight are cut."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()
            self.killed += 1
            self.exits.append(None)  # killed on purpose: not a crash
        self._proc = None

    async def stop(self) -> int | None:
        """SIGTERM and wait (bounded); the exit code, or None if it had to be killed."""
        proc, self._proc = self._proc, None
        code: int | None = None
        if proc is not None:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
                    code = None
            else:
                code = proc.returncode
            self.exits.append(code)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def exited_by_itself(self) -> int | None:
        """The exit code if the process ended without being asked to; else None."""
        if self._proc is not None and self._proc.returncode is not None:
            return self._proc.returncode
        return None
