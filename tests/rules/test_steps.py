"""`decide` reads as its five named steps, each citing the sources it rests on."""

from __future__ import annotations

import inspect

import pytest

from rules import SOURCES, STEPS
from rules import decision as decision_module

#: The steps in the order `decide` takes them; the law's order, not the code's convenience.
ORDER = ("_not_in_force", "_excluded", "_missing_facts", "_separate_or_unclear", "_affected")


def test_every_step_is_registered_in_order() -> None:
    """The registry holds exactly the five steps, in the order they are defined and taken."""
    assert tuple(STEPS) == ORDER
    source = inspect.getsource(decision_module.decide)
    positions = [source.index(name + "(") for name in ORDER]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", ORDER)
def test_step_cites_known_sources_and_explains_itself(name: str) -> None:
    """Each step names registered sources (only the missing-facts rule, the bot's own, cites
    none) and says what it decides, with the sources, in its docstring."""
    cited = STEPS[name]
    assert set(cited) <= set(SOURCES)
    assert bool(cited) is (name != "_missing_facts")
    doc = inspect.getdoc(getattr(decision_module, name))
    assert doc
    assert all(source in doc for source in cited)
