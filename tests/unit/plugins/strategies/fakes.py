"""Doubles for strategy tests: scripted members (tests/unit/doubles.py) and scripted verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codequorum.core.engine import Engine
from codequorum.vocabulary.candidate import Candidate, TestOutcome
from codequorum.vocabulary.evidence import TestRun
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import scripted_registry, scripted_settings

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers")


def answer(value: int) -> str:
    """A small program; different values normalise to different code."""
    return f"def f():\n    return {value}\n"


def verdicts(table: dict[str, dict[str, Any]]) -> type:
    """A check plugin that writes the verdicts given per candidate text (stripped):
    `syntax` (bool) and `results` (one bool per test case, as the tests check records them)."""

    class ScriptedVerdicts:
        name = "verdicts"

        def __init__(self, runtime: Any) -> None:
            pass

        async def run(self, request: Request, candidates: Sequence[Candidate]) -> None:
            for candidate in candidates:
                verdict = table.get(candidate.text.strip(), {})
                if "syntax" in verdict:
                    candidate.evidence.syntax = verdict["syntax"]
                if "results" in verdict:
                    results = verdict["results"]
                    candidate.evidence.tests = TestOutcome(sum(results), len(results) - sum(results))
                    candidate.evidence.test_run = TestRun(tuple(results))

    return ScriptedVerdicts


def engine(members: dict[str, dict[str, Any]], checks: type | None = None, **extra: Any) -> Engine:
    """Scripted members, no real checks (no sandbox), evidence ranking only (deterministic)."""
    registry = scripted_registry(disabled=frozenset({"checks.syntax", "checks.tests"}))
    if checks is not None:
        registry.register("checks", "verdicts", checks)
    return Engine(scripted_settings(members, ranking={"listwise": False}, **extra), registry)


def member(replies: list[str], **config: Any) -> dict[str, Any]:
    options = {"replies": replies, **config.pop("options", {})}
    return {**config, "options": options}
