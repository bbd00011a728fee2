"""Visible evidence re-run with the checks as they are now.

A collection stores each candidate's visible evidence (syntax, the prompt's tests) as the checks
saw it then; checks improve (informal docstring examples such as `f(2) => 4` became tests after
most of HumanEval was collected). A ranker trained on the stored evidence would learn from
features it will not see when it ranks, where the checks run live: re-running the checks on the
stored texts (in the sandbox, one start per problem) removes that skew.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from codequorum.bench.collect import request_for
from codequorum.bench.problems import Problem
from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.records import Record, stored_evidence
from codequorum.vocabulary.request import Request


async def recheck(settings: Settings, records: Sequence[Record], problems: Sequence[Problem],
                  max_tokens: int = 384) -> list[Record]:
    """Copies of `records` with their visible evidence re-run; records of problems not in
    `problems`, and those without a text, are kept as they are."""
    by_id = {problem.id: problem for problem in problems}
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record.problem].append(record)
    engine = Engine(settings)
    fresh: list[Record] = []
    try:
        for problem_id, rows in grouped.items():
            problem = by_id.get(problem_id)
            if problem is None:
                fresh += rows
                continue
            fresh += await _recheck_problem(engine, request_for(problem, max_tokens, None), rows)
    finally:
        await engine.aclose()
    return fresh


async def _recheck_problem(engine: Engine, request: Request, rows: list[Record]) -> list[Record]:
    candidates = [Candidate(member=row.member, text=row.text, prompt_kind=row.prompt_kind)
                  for row in rows if _checkable(row)]
    for check in engine.checks():
        await check.run(request, candidates)
    checked = iter(candidates)
    return [dataclasses.replace(row, checks={**row.checks, **stored_evidence(next(checked).evidence)})
            if _checkable(row) else row for row in rows]


def _checkable(row: Record) -> bool:
    return row.error is None and bool(row.text.strip())
