"""The repair rung (`core/repair.py`) with scripted members and the real checks: the failing test
runs again in the real sandbox, its output goes to the strongest member, and the repair is
checked and ranked like any candidate. `fix` repairs with the project's own test command."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.core.engine import Engine
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.fix.report import FixOutcome
from codequorum.fix.service import FixJob, run_fix
from tests.dirs import searchable_dir
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

pytestmark = pytest.mark.e2e

REQUEST = Request(TaskKind.GENERATE, language="python",
                  instruction="Write clamp(x, low, high): x limited to the range [low, high].",
                  tests="assert clamp(5, 0, 3) == 3\nassert clamp(-2, 0, 3) == 0\nassert clamp(2, 0, 3) == 2\n")
RIGHT = "def clamp(x, low, high):\n    return max(low, min(x, high))\n"
WRONG = "def clamp(x, low, high):\n    return min(x, high)\n"  # forgets the lower bound
WRONG_TOO = "def clamp(x, low, high):\n    return x if x < high else high\n"
DOCTESTED = Request(TaskKind.GENERATE, language="python", instruction=(
    'def double(x):\n    """Twice x.\n\n    >>> double(4)\n    8\n    """\n'))
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fix_projects" / "buggy_calc"
COMMAND = "python -m pytest -q --tb=short -p no:cacheprovider"


def engine(cheap: list[str], dear: list[str]) -> Engine:
    """`cheap` is asked first by the cascade; `dear`, the strongest, also writes the repairs."""
    fenced = {"cheap": cheap, "dear": dear}
    members = {name: {"quality": quality, "price_per_1k_tokens": price,
                      "options": {"replies": [f"```python\n{r}```" for r in fenced[name]]}}
               for name, quality, price in (("cheap", 0.5, 10.0), ("dear", 0.8, 30.0))}
    return Engine(scripted_settings(members, ranking={"listwise": False}), scripted_registry(disabled=frozenset()))


def repair_prompts() -> list[str]:
    return [p.messages[-1].content for p in ScriptedBackend.prompts
            if p.kind == "chat" and "debugs code from its test results" in p.messages[0].content]


@pytest.fixture(autouse=True)
def fresh_prompts() -> None:
    ScriptedBackend.prompts.clear()


async def test_cascade_repairs_a_failing_answer_with_the_failing_tests_values():
    result = await engine([WRONG], [WRONG, RIGHT]).run(
        REQUEST, strategy="cascade", options={"samples": 1, "repair": 2})
    assert result.text.strip() == RIGHT.strip()
    assert result.best.tests.all_passed and result.best.prompt_kind == "repair"
    assert [(c.member, c.prompt_kind) for c in result.trace.calls] == [
        ("cheap", "chat"), ("dear", "chat"), ("dear", "repair")]
    [prompt] = repair_prompts()
    assert "assert clamp(-2, 0, 3) == 0" in prompt  # the first test that fails, not one that passes
    assert "left side `clamp(-2, 0, 3)` is -2" in prompt and "right side `0` is 0" in prompt
    assert "AssertionError" in prompt and "return min(x, high)" in prompt
    assert "repair round 1: the repair passes the checks" in result.trace.events
    assert result.trace.stop_reason.endswith("repaired, 1 candidates pass the checks")


async def test_rounds_repair_the_previous_repair_and_stop_once_one_passes():
    result = await engine([WRONG], [WRONG, WRONG_TOO, RIGHT, WRONG]).run(
        REQUEST, strategy="cascade", options={"samples": 1, "repair": 3})
    assert result.text.strip() == RIGHT.strip()
    assert [c.prompt_kind for c in result.trace.calls].count("repair") == 2
    first, second = repair_prompts()
    assert "return min(x, high)" in first and "return x if x < high else high" in second
    assert "repair round 1: the repair still fails the checks" in result.trace.events


async def test_no_repair_when_off_or_when_the_answer_passes():
    off = await engine([WRONG], [WRONG, RIGHT]).run(REQUEST, strategy="cascade", options={"samples": 1})
    assert "repair" not in [c.prompt_kind for c in off.trace.calls]
    passing = await engine([RIGHT], [RIGHT]).run(REQUEST, strategy="cascade", options={"samples": 1, "repair": 2})
    assert [c.member for c in passing.trace.calls] == ["cheap"] and not repair_prompts()


async def test_a_repair_that_still_fails_leaves_the_answer_as_it_was():
    result = await engine([WRONG], [WRONG_TOO, WRONG_TOO]).run(
        REQUEST, strategy="cascade", options={"samples": 1, "repair": 1})
    assert [c.prompt_kind for c in result.trace.calls] == ["chat", "chat", "repair"]
    assert result.trace.stop_reason.endswith("no repair passes")
    assert all(not c.tests.all_passed for c in result.candidates)


async def test_a_failing_doctest_shows_what_was_expected_and_what_came():
    result = await engine(["def double(x):\n    return x + 2\n"], ["def double(x):\n    return x + 2\n",
                                                                   "def double(x):\n    return 2 * x\n"]).run(
        DOCTESTED, strategy="cascade", options={"samples": 1, "repair": 1})
    assert "2 * x" in result.text
    [prompt] = repair_prompts()
    assert "Expected:\n    8\nGot:\n    6" in prompt


@pytest.fixture
def project() -> Iterator[Path]:
    with searchable_dir("cq-repair-test-") as base:
        shutil.copytree(FIXTURE, base / "calc")
        yield base / "calc"


async def test_fix_repairs_its_best_attempt_with_the_test_commands_output(project: Path):
    wrong = "```python\ndef add(a, b):\n    return a * b\n```"
    good = "```python\ndef add(a, b):\n    return a + b\n```"
    members = {"dear": {"quality": 0.8, "options": {"replies": [wrong, good]}}}
    fixer = Engine(scripted_settings(members), scripted_registry())
    try:
        report = await run_fix(FixJob(target=project, command=COMMAND, strategy="best-of", repair=2), fixer)
    finally:
        await fixer.aclose()
    assert report.outcome is FixOutcome.FIXED
    assert report.best.member == "dear (repair 1)" and report.best.passed
    assert [c.prompt_kind for c in report.trace.calls] == ["chat", "repair"]
    [prompt] = repair_prompts()
    assert "return a * b" in prompt and "assert" in prompt  # pytest's report of the failing test
    assert "repair round 1: the repair makes the tests pass" in report.trace.events


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "calc"
MEAN_FIXED = ('```python\ndef mean(values):\n    """The arithmetic mean of `values`; 0.0 for an empty list."""\n'
              "    if not values:\n        return 0.0\n    return sum(values) / len(values)\n```")


async def test_the_readme_fix_example_is_fixed_with_the_default_strategy_and_members():
    """examples/calc, as the README's `fix` example runs it: the default strategy (the cascade,
    repair on) over the members with `generate = true`; the one with false is not asked."""
    members = {"dear": {"quality": 0.8, "price_per_1k_tokens": 30.0,
                        "options": {"replies": ["```python\ndef mean(values):\n    return 0\n```", MEAN_FIXED]}},
               "tiny": {"quality": 0.1, "price_per_1k_tokens": 1.0, "generate": False,
                        "options": {"replies": ["```python\ndef mean(values):\n    return 1\n```"]}}}
    fixer = Engine(scripted_settings(members), scripted_registry())
    with searchable_dir("cq-example-") as base:
        shutil.copytree(EXAMPLE, base / "calc", ignore=shutil.ignore_patterns(".codequorum", "__pycache__"))
        try:
            report = await run_fix(FixJob(target=base / "calc" / "calc" / "stats.py",
                                          command="python -m pytest -q -p no:cacheprovider tests"), fixer)
        finally:
            await fixer.aclose()
    assert report.outcome is FixOutcome.FIXED, report.message
    assert report.function == "mean" and str(report.file) == "calc/stats.py"
    assert {c.member for c in report.trace.calls} == {"dear"}
    assert [c.prompt_kind for c in report.trace.calls] == ["chat", "repair"]
    assert "+    return sum(values) / len(values)" in report.best.diff


async def test_vote_repairs_a_failing_winner_and_the_repair_votes():
    result = await engine([WRONG], [WRONG_TOO, RIGHT]).run(
        REQUEST, strategy="vote", options={"samples": 1, "repair": 1})
    assert result.text.strip() == RIGHT.strip() and result.best.prompt_kind == "repair"
    assert [c.prompt_kind for c in result.trace.calls] == ["chat", "chat", "repair"]
    assert result.trace.stop_reason.endswith("; with 1 repair(s)")
