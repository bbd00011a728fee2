"""docs/strategies.md stays true: each built-in strategy's options table lists exactly the keys
its Options model takes (`prompt_forms`, taken by every strategy, has its own section)."""

import importlib
import pkgutil
import re
from pathlib import Path

import codequorum.plugins.strategies as package
from codequorum.core.strategy_options import options_model

DOCS = Path(__file__).parents[2] / "docs" / "strategies.md"
IGNORED_BUT_TAKEN = {"rank": {"generated_tests"}}  # said in the prose: taken and ignored


def built_in_strategies() -> dict[str, type]:
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and options_model(value):
                found[value.name] = value
    return found


def documented_options(name: str) -> set[str]:
    sections = re.split(r"^## ", DOCS.read_text(encoding="utf-8"), flags=re.M)
    [section] = [s for s in sections if s.startswith(f"`{name}`")]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_every_strategy_has_an_options_model_and_its_table_lists_its_keys():
    strategies = built_in_strategies()
    assert len(strategies) == 10
    for name, strategy in strategies.items():
        taken = set(options_model(strategy).model_fields) - {"prompt_forms"} - IGNORED_BUT_TAKEN.get(name, set())
        assert documented_options(name) == taken, name
