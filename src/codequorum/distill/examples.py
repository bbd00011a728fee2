"""Training examples from what the project trusts, and nothing else.

A bench candidate is an example only when its hidden tests passed in the sandbox (`passed is
True`: not unknown, not failed, not a failed call). A feedback event is one only when the
user accepted the whole suggestion and never dismissed it (`accepted_completions`). Each
example is the prompt exactly as the member saw it (the bench's chat prompt, or the FIM
prompt of the cursor's window) and the answer the member should give.

A verified answer can also be asked the way an editor asks: one gap of whole lines cut from
the body of the function it wrote (the `fim` form), the program without those lines as the
document and the cursor where they were, so the cheap member learns the inline-completion job
from code that passed its tests.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from codequorum.bench.collect import request_for
from codequorum.bench.fim_tasks import gap_in
from codequorum.bench.problems import Problem
from codequorum.core.fences import fenced
from codequorum.core.prompts import build_prompt, fim_prompt, fim_template
from codequorum.distill.halves import Half, in_half
from codequorum.stores.records import FeedbackRecord
from codequorum.stores.verified import VerifiedAnswer
from codequorum.vocabulary.generation import Prompt
from codequorum.vocabulary.records import Record
from codequorum.vocabulary.request import Request, TaskKind

Source = Literal["collection", "feedback", "verified"]
Form = Literal["chat", "fim"]  # how a verified bench answer is asked: the bench's chat prompt, or a gap in it
FORMS: tuple[Form, ...] = ("chat", "fim")


@dataclass(frozen=True)
class TrainingExample:
    key: str  # the problem id, the suggestion id, or the verified request: what validation is split by
    source: Source
    prompt: Prompt
    answer: str


@dataclass
class Selection:
    """The examples taken, and how many candidates were left out for each reason."""

    examples: list[TrainingExample] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    answered: set[tuple[str, str]] = field(default_factory=set)  # (key, answer) taken so far

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1

    def first_time(self, key: str, answer: str) -> bool:
        """Whether this answer to this request is new; the same again is left out."""
        if (key, answer) in self.answered:
            self.leave_out("the same answer again")
            return False
        self.answered.add((key, answer))
        return True


def from_collection(records: Iterable[Record], problems: Mapping[str, Problem], half: Half,
                    selection: Selection | None = None, max_tokens: int = 384,
                    forms: tuple[Form, ...] = ("chat",), fim: str | None = None, seed: int = 0) -> Selection:
    """The candidates that passed their hidden tests, for the problems of `half`, the same
    answer to the same problem once; each asked in every form of `forms`: with the chat prompt
    the bench asked it with, and (`fim`, in the member's FIM format `fim`) as one gap in the
    body of the function it wrote, drawn by a seeded choice per answer."""
    selection = selection or Selection()
    if "fim" in forms and fim is None:
        raise ValueError("FIM examples need the member's FIM format")
    for record in records:
        reason = _unusable(record, problems, half)
        if reason:
            selection.leave_out(reason)
            continue
        problem = problems[record.problem]
        answer = fenced(record.text.strip("\n"), problem.language)
        if not selection.first_time(record.problem, answer):
            continue
        if "chat" in forms:
            prompt = build_prompt(request_for(problem, max_tokens, None), fim=None)
            selection.examples.append(TrainingExample(record.problem, "collection", prompt, answer))
        if "fim" in forms and fim is not None:
            example = _fim_example(problem, record.text, fim, seed)
            if example is None:
                selection.leave_out("no function body to cut a FIM gap from")
            else:
                selection.examples.append(example)
    return selection


def _fim_example(problem: Problem, text: str, fim: str, seed: int) -> TrainingExample | None:
    program = text if f"def {problem.entry_point}" in text else problem.prompt + text  # the file the user would have
    return _gap_example(problem, program, "collection", fim, seed)


def _gap_example(problem: Problem, program: str, source: Source, fim: str, seed: int) -> TrainingExample | None:
    """One gap (a line or a span of 2 to 8, drawn per answer) in the body of the program's
    function `problem.entry_point` (empty: its first function): the document without it as a
    FIM prompt, the gap's lines as the answer."""
    body_start = _body_start(program, problem.entry_point) if problem.language == "python" else None
    if body_start is None:
        return None
    digest = hashlib.sha256(f"{seed}:{problem.id}:{program}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    kinds = ["line", "block"]
    rng.shuffle(kinds)
    task = gap_in(problem, program, body_start, kinds[0], rng) or gap_in(problem, program, body_start, kinds[1], rng)
    if task is None:
        return None
    document = task.document
    request = Request(TaskKind.COMPLETE, language=problem.language, prefix=document[:task.cursor],
                      suffix=document[task.cursor:])
    return TrainingExample(problem.id, source, fim_prompt(request, fim_template(fim)), task.middle)


def _body_start(program: str, entry_point: str) -> int | None:
    """Where the statements of `entry_point`'s (empty: the first function's) body begin (after its docstring): the offset of
    that line in `program`; None when the program does not parse or has no such function."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    function = next((node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and (node.name == entry_point or not entry_point)), None)
    if function is None:
        return None
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    lines = program.split("\n")
    return sum(len(line) + 1 for line in lines[:body[0].lineno - 1])


def _unusable(record: Record, problems: Mapping[str, Problem], half: Half) -> str | None:
    if record.passed is not True or record.error is not None:
        return "not verified (hidden tests failed or never ran)"
    if not record.text.strip():
        return "empty"
    if record.problem not in problems:
        return "problem not in the suite"
    if not in_half(record.problem, half):
        return "problem of the other half"
    if record.prompt_kind != "chat":
        return "not a chat prompt"
    return None


def from_feedback(records: Iterable[FeedbackRecord], fim: str,
                  selection: Selection | None = None) -> Selection:
    """Accepted completions as FIM examples in the member's `fim` format (e.g. "qwen")."""
    selection = selection or Selection()
    template = fim_template(fim)
    seen: set[tuple[str, str, str]] = set()
    for record in records:
        window = (record.prompt_prefix, record.prompt_suffix, record.text)
        if window in seen:
            selection.leave_out("the same completion again")
            continue
        seen.add(window)
        request = Request(TaskKind.COMPLETE, language=record.language, prefix=record.prompt_prefix,
                          suffix=record.prompt_suffix)
        prompt = fim_prompt(request, template)
        selection.examples.append(TrainingExample(record.suggestion_id, "feedback", prompt, record.text))
    return selection


def from_verified(entries: Iterable[VerifiedAnswer], selection: Selection | None = None, max_tokens: int = 384,
                  forms: tuple[Form, ...] = ("chat",), fim: str | None = None, seed: int = 0) -> Selection:
    """The answers `generate --tests-file` and `fix` kept once their tests passed in the
    sandbox, asked as the members were asked (the generate or fix chat prompt, rebuilt from
    the request kept with the answer) and, in the `fim` form, as one gap cut from the body of
    the first function the answer holds (Python)."""
    selection = selection or Selection()
    for entry in entries:
        if not entry.answer.strip():
            selection.leave_out("empty")
            continue
        answer = fenced(entry.answer.strip("\n"), entry.language)
        if not selection.first_time(entry.key, answer):
            continue
        if "chat" in forms:
            prompt = build_prompt(_request_of(entry, max_tokens), fim=None)
            selection.examples.append(TrainingExample(entry.key, "verified", prompt, answer))
        if "fim" in forms and fim is None:
            selection.leave_out("a FIM gap, but the student has no FIM format")
        elif "fim" in forms:
            where = Problem(entry.key, "", "", entry.functions[0] if entry.functions else "", entry.language)
            example = _gap_example(where, entry.answer, "verified", fim, seed)
            if example is None:
                selection.leave_out("no function body to cut a FIM gap from")
            else:
                selection.examples.append(example)
    return selection


def _request_of(entry: VerifiedAnswer, max_tokens: int) -> Request:
    """The request the members were asked, as `generate` and `fix_request` build it."""
    if entry.kind == "fix":
        return Request(TaskKind.FIX, language=entry.language, prefix=entry.code,
                       instruction=entry.instruction, functions=entry.functions, max_tokens=max_tokens)
    return Request(TaskKind.GENERATE, language=entry.language, instruction=entry.instruction,
                   tests=entry.tests, max_tokens=max_tokens)


def capped(examples: list[TrainingExample], limit: int, seed: int) -> list[TrainingExample]:
    """At most `limit` examples, shared out among the sources in turn and sampled within each
    with `seed`, so a small source (the user's verified answers and accepted completions) is
    kept whole rather than sampled out by a large one (a bench collection)."""
    if len(examples) <= limit:
        return examples
    by_source: dict[Source, list[TrainingExample]] = {}
    for example in examples:
        by_source.setdefault(example.source, []).append(example)
    shares, left = dict.fromkeys(by_source, 0), limit
    while left:
        for source, group in by_source.items():
            if left and shares[source] < len(group):
                shares[source], left = shares[source] + 1, left - 1
    rng = random.Random(seed)
    return [e for source, group in by_source.items() for e in rng.sample(group, shares[source])]
