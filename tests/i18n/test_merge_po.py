"""tools/merge_po.py: two branches' catalog edits merged message by message."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from babel.messages.catalog import Catalog

from tests.i18n import ROOT


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("merge_po", ROOT / "tools" / "merge_po.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _catalog(**strings: str) -> Catalog:
    catalog = Catalog(locale="ru")
    for msgid, msgstr in strings.items():
        catalog.add(msgid, msgstr)
    return catalog


def test_each_side_keeps_its_own_edits_and_a_double_edit_is_reported() -> None:
    """One side's change wins over the base; both changing one message is a conflict."""
    base = _catalog(a="a0", b="b0", c="c0", gone="g0")
    ours = _catalog(a="a-ours", b="b0", c="c-ours", gone="g0", new_ours="n1")
    theirs = _catalog(a="a0", b="b-theirs", c="c-theirs", new_theirs="n2")
    conflicts = _tool().merge(base, ours, theirs)
    merged = {m.id: m.string for m in theirs if m.id}
    assert merged == {
        "a": "a-ours",
        "b": "b-theirs",
        "c": "c-theirs",
        "new_ours": "n1",
        "new_theirs": "n2",
    }
    assert conflicts == ["c"]


def test_prefer_ours_takes_our_side_of_a_conflict() -> None:
    """--prefer ours keeps our text where both sides changed the same message."""
    theirs = _catalog(c="c-theirs")
    assert _tool().merge(_catalog(c="c0"), _catalog(c="c-ours"), theirs, prefer="ours") == ["c"]
    assert theirs["c"].string == "c-ours"
