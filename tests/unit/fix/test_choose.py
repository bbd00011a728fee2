from __future__ import annotations

from pathlib import PurePosixPath

from codequorum.fix.choose import Attempt, ranked
from codequorum.fix.project import CommandRun, Verdict


def _run(verdict: Verdict) -> CommandRun:
    return CommandRun(0 if verdict is Verdict.PASSED else 1, "", 0.1, False, None, verdict)


def _attempt(member: str, passed: bool | None, score: float, lines: int) -> Attempt:
    run = None if passed is None else _run(Verdict.PASSED if passed else Verdict.FAILED)
    return Attempt(member, "", score, fixed_files={} if run is None else {PurePosixPath("m.py"): "x"}, run=run,
                   lines_changed=lines)


def test_passing_fixes_come_first_whatever_their_score():
    order = ranked([_attempt("high", False, 0.9, 1), _attempt("low", True, 0.1, 9)])
    assert [a.member for a in order] == ["low", "high"]


def test_then_the_ranker_then_the_smallest_change():
    order = ranked([
        _attempt("small-low", True, 0.2, 1),
        _attempt("big-high", True, 0.8, 9),
        _attempt("small-high", True, 0.8, 2),
    ])
    assert [a.member for a in order] == ["small-high", "big-high", "small-low"]


def test_untried_answers_come_after_failing_ones():
    order = ranked([_attempt("untried", None, 0.9, 0), _attempt("failed", False, 0.1, 3)])
    assert [a.member for a in order] == ["failed", "untried"]
    assert not order[1].tried and not order[1].passed
