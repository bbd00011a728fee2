"""Collect candidates per (problem, member, setting) once; resumable; hidden tests run once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codequorum.bench.execute import hidden_results
from codequorum.bench.problems import Problem
from codequorum.bench.store import CandidateStore, Record, Setting
from codequorum.core.candidate import Candidate, TestOutcome
from codequorum.core.engine import Engine
from codequorum.core.request import Budget, Request, TaskKind
from codequorum.core.result import Result
from codequorum.sandbox import SandboxLimits

INSTRUCTION = "Complete the following Python function. Reply with the whole function in one code block."
Progress = Callable[[str], None]


def request_for(problem: Problem, max_tokens: int, deadline_s: float | None) -> Request:
    return Request(
        TaskKind.GENERATE,
        language=problem.language,
        instruction=INSTRUCTION,
        prefix=problem.prompt,
        max_tokens=max_tokens,
        budget=Budget(deadline_s=deadline_s),
    )


async def collect(
    engine: Engine,
    problems: Sequence[Problem],
    members: Sequence[str],
    setting: Setting,
    store: CandidateStore,
    limits: SandboxLimits,
    max_tokens: int = 384,
    progress: Progress = lambda _cell: None,
) -> list[Record]:
    """Generate every missing cell, execute its candidates, append them to the store; the
    records appended."""
    done, appended = store.done_cells(), []
    for problem in problems:
        for member in members:
            if (problem.id, member, setting.key) in done:
                continue
            result = await engine.run(
                request_for(problem, max_tokens, deadline_s=None),
                strategy="single",
                options={"member": member, "samples": setting.samples,
                         "temperature": setting.temperature},
            )
            records = _records(problem, member, setting, result)
            texts = [r.text for r in records if r.error is None]
            passed = iter(await hidden_results(problem, texts, limits) if texts else [])
            for record in records:
                record.passed = next(passed) if record.error is None else False
            store.append(records)
            appended += records
            progress(f"{problem.id} {member}")
    return appended


def _records(problem: Problem, member: str, setting: Setting, result: Result) -> list[Record]:
    call = result.trace.calls[0] if result.trace.calls else None
    if not result.candidates:
        error = call.error if call and call.error else "no candidate"
        return [Record(problem.id, member, setting.key, 0, "", 0, 0.0, 0.0, None, error=error)]
    # single sorts by score; keep the sampling order so sample i is always sample i
    ordered = sorted(result.candidates, key=lambda c: c.id)
    return [_record(problem, member, setting, i, c) for i, c in enumerate(ordered)]


def _record(problem: Problem, member: str, setting: Setting, index: int, candidate: Candidate) -> Record:
    return Record(
        problem=problem.id,
        member=member,
        setting=setting.key,
        index=index,
        text=candidate.text,
        tokens=candidate.tokens,
        compute_seconds=candidate.seconds,
        cost=candidate.cost,
        mean_logprob=candidate.mean_logprob,
        checks={**visible_evidence(candidate), "prompt_kind": candidate.prompt_kind},
    )


def visible_evidence(candidate: Candidate) -> dict[str, Any]:
    """What the checks saw, as a record keeps it: syntax and the visible tests' outcome."""
    return {
        "syntax": candidate.syntax_ok,
        "visible": _outcome(candidate.tests),
        "visible_results": (candidate.checks.get("tests_detail") or {}).get("results"),
    }


def _outcome(outcome: TestOutcome | None) -> dict[str, int] | None:
    return {"passed": outcome.passed, "failed": outcome.failed} if outcome else None
