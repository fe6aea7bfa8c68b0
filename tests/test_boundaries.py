"""Architecture boundaries: the rules core (and the conversation core) stay pure."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import rules

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
CONVERSATION_DIR = ROOT / "bot" / "conversation"

#: Packages the pure cores may use besides the standard library.
RULES_ALLOWED = frozenset({"pydantic", "rules"})
CONVERSATION_ALLOWED = frozenset({"pydantic", "rules", "bot.conversation"})
#: Named explicitly so the message is clear if one ever slips in.
FORBIDDEN = frozenset(
    {"telegram", "redis", "babel", "httpx", "tornado", "pydantic_settings", "bot.storage"}
)
#: Calls that read the clock or do I/O: a pure core takes the day and the text as inputs.
FORBIDDEN_METHODS = frozenset(
    {
        ("date", "today"),
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("time", "time"),
        ("time", "time_ns"),
        ("time", "monotonic"),
        ("time", "localtime"),
    }
)
FORBIDDEN_BUILTINS = frozenset({"open", "print", "input", "breakpoint", "exec", "eval"})
FORBIDDEN_FROM_IMPORTS = frozenset({("time", "time"), ("time", "time_ns"), ("builtins", "open")})


@dataclass(frozen=True)
class Violation:
    """One forbidden import or call, with where it is."""

    path: str
    line: int
    what: str


def _imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, absolute module, imported names) for every import in the tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: inside the package being checked
                module = f"{package}.{module}" if module else package
            found.append((node.lineno, module, tuple(alias.name for alias in node.names)))
    return found


def _allowed(module: str, allowed: frozenset[str]) -> bool:
    if any(module == f or module.startswith(f + ".") for f in FORBIDDEN):
        return False
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names:
        return True
    return any(module == a or module.startswith(a + ".") for a in allowed)


def _call_name(func: ast.expr) -> tuple[str, str] | str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return (func.value.id, func.attr)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
        return (func.value.attr, func.attr)  # datetime.date.today(), datetime.datetime.now()
    return None


def violations(source: str, *, path: str, package: str, allowed: frozenset[str]) -> list[Violation]:
    """The forbidden imports and impure calls in one module's source."""
    tree = ast.parse(source, filename=path)
    found: list[Violation] = []
    for line, module, names in _imported_modules(tree, package):
        if not _allowed(module, allowed):
            found.append(Violation(path, line, f"imports {module}"))
        found += [
            Violation(path, line, f"imports {name} from {module}")
            for name in names
            if (module, name) in FORBIDDEN_FROM_IMPORTS
        ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in FORBIDDEN_BUILTINS or name in FORBIDDEN_METHODS:
                found.append(Violation(path, node.lineno, f"calls {name}"))
    return found


def _isort_style(name: str) -> tuple[int, list[object]]:
    """Ruff's RUF022 key: SCREAMING_CASE, then CamelCase, then the rest; natural order within."""
    category = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    natural: list[object] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return category, natural


def _check_tree(directory: Path, package: str, allowed: frozenset[str]) -> list[Violation]:
    found: list[Violation] = []
    for path in sorted(directory.rglob("*.py")):
        relative = path.relative_to(directory).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        # Relative imports resolve against the module's package: a package's __init__ is
        # its own package, any other module belongs to the package that contains it.
        inner = parts if path.name == "__init__.py" else parts[:-1]
        module_package = ".".join([package, *inner])
        found += violations(
            path.read_text(encoding="utf-8"),
            path=str(path.relative_to(ROOT)),
            package=module_package,
            allowed=allowed,
        )
    return found


class TestRulesCore:
    """rules/ is a pure core: stdlib, pydantic and itself only; no clock, no I/O."""

    def test_rules_has_modules(self) -> None:
        """The walk sees the rules package, so an empty result means something."""
        assert len(list(RULES_DIR.rglob("*.py"))) >= 2

    def test_rules_imports_and_calls_are_pure(self) -> None:
        """No module under rules/ imports a framework or reads the clock or files."""
        assert _check_tree(RULES_DIR, "rules", RULES_ALLOWED) == []

    def test_all_is_sorted_the_way_ruff_sorts_it(self) -> None:
        """rules.__all__ is in ruff's RUF022 order: constants, then classes, then the rest."""
        assert list(rules.__all__) == sorted(rules.__all__, key=_isort_style)

    def test_all_names_are_importable(self) -> None:
        """Every name in rules.__all__ can be imported from rules, and none is listed twice."""
        assert len(set(rules.__all__)) == len(rules.__all__)
        module = importlib.import_module("rules")
        missing = [name for name in rules.__all__ if not hasattr(module, name)]
        assert missing == []


class TestConversationCore:
    """bot/conversation/ is pure too: stdlib, pydantic, rules and itself only."""

    def test_conversation_imports_and_calls_are_pure(self) -> None:
        """No module under bot/conversation/ imports a framework or reads the clock or files."""
        if not CONVERSATION_DIR.is_dir():
            pytest.skip("bot/conversation/ does not exist yet")
        assert _check_tree(CONVERSATION_DIR, "bot.conversation", CONVERSATION_ALLOWED) == []


class TestTheChecker:
    """The checker itself catches what it should, so a passing walk is meaningful."""

    @pytest.mark.parametrize(
        "source",
        [
            "import telegram",
            "from redis import Redis",
            "import babel.core",
            "import httpx",
            "from tornado import web",
            "import pydantic_settings",
            "import numpy",
            "from bot.storage import memory",
            "from datetime import date\ndate.today()",
            "import datetime\ndatetime.datetime.now()",
            "import time\ntime.time()",
            "from time import time",
            "open('x')",
            "print('x')",
        ],
    )
    def test_flags_violation(self, source: str) -> None:
        """A framework import, a clock read or I/O is reported."""
        assert violations(source, path="x.py", package="rules", allowed=RULES_ALLOWED)

    @pytest.mark.parametrize(
        "source",
        [
            "from __future__ import annotations",
            "import re\nfrom datetime import date\ndate(2025, 11, 5)",
            "from pydantic import BaseModel",
            "from rules.facts import Facts",
            "from .facts import Facts",
            "from collections.abc import Callable",
        ],
    )
    def test_allows_pure_code(self, source: str) -> None:
        """Standard library, pydantic and the package itself are allowed."""
        assert violations(source, path="x.py", package="rules", allowed=RULES_ALLOWED) == []

    def test_conversation_may_not_import_the_bot_shell(self) -> None:
        """The conversation core may import itself but not other parts of bot."""
        allowed = CONVERSATION_ALLOWED
        ok = "from bot.conversation.state import State\nfrom . import events"
        assert violations(ok, path="x.py", package="bot.conversation", allowed=allowed) == []
        bad = "from bot.cli import main"
        assert violations(bad, path="x.py", package="bot.conversation", allowed=allowed)
