"""Collect candidates per (problem, member, setting) once; resumable; hidden tests run once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from codequorum.bench.execute import hidden_results
from codequorum.bench.problems import Problem
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.records import CandidateStore, Record, Setting, stored_evidence
from codequorum.vocabulary.request import Budget, Request, TaskKind
from codequorum.vocabulary.result import Result

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
    records appended. A cell of k samples starts from a stored cell of fewer samples at the same
    temperature, if there is one: sample i is drawn with seed i either way, so only the missing
    samples are generated."""
    stored, appended = store.cells(), []
    for problem in problems:
        for member in members:
            if (problem.id, member, setting.key) in stored:
                continue
            reused = _smaller_cell(stored, problem.id, member, setting)
            result = await engine.run(
                request_for(problem, max_tokens, deadline_s=None),
                strategy="single",
                options={"member": member, "samples": setting.samples - len(reused),
                         "temperature": setting.temperature, "seed": len(reused)},
            )
            fresh = _records(problem, member, setting, result, first_index=len(reused))
            texts = [r.text for r in fresh if r.error is None]
            passed = iter(await hidden_results(problem, texts, limits) if texts else [])
            for record in fresh:
                record.passed = next(passed) if record.error is None else False
            records = [dataclasses.replace(r, setting=setting.key) for r in reused] + fresh
            store.append(records)
            appended += records
            progress(_described(problem, member, fresh, reused))
    return appended


def _described(problem: Problem, member: str, fresh: list[Record], reused: list[Record]) -> str:
    seconds = sum(r.compute_seconds for r in fresh)
    kept = f", {len(reused)} kept from a smaller cell" if reused else ""
    return f"{problem.id} {member}: {len(fresh)} new in {seconds:.1f} compute-s{kept}"


def _smaller_cell(stored: dict[tuple[str, str, str], list[Record]], problem: str, member: str,
                  setting: Setting) -> list[Record]:
    """The largest stored cell of this problem and member at the same temperature with fewer
    samples than `setting` and no failed call; [] for greedy settings or when there is none."""
    if setting.temperature <= 0:
        return []
    best: list[Record] = []
    for (cell_problem, cell_member, key), records in stored.items():
        other = Setting.parse(key)
        if (cell_problem, cell_member) != (problem, member) or other is None:
            continue
        if (other.temperature == setting.temperature and len(best) < other.samples < setting.samples
                and len(records) == other.samples and not any(r.error for r in records)):
            best = records
    return best


def _records(problem: Problem, member: str, setting: Setting, result: Result,
             first_index: int = 0) -> list[Record]:
    call = result.trace.calls[0] if result.trace.calls else None
    if not result.candidates:
        error = call.error if call and call.error else "no candidate"
        return [Record(problem.id, member, setting.key, first_index, "", 0, 0.0, 0.0, None, error=error)]
    # single sorts by score; keep the sampling order so sample i is always sample i
    ordered = sorted(result.candidates, key=lambda c: c.id)
    return [_record(problem, member, setting, first_index + i, c) for i, c in enumerate(ordered)]


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
        checks={**stored_evidence(candidate.evidence), "prompt_kind": candidate.prompt_kind},
    )

