"""Training examples from what the project trusts, and nothing else.

A bench candidate is an example only when its hidden tests passed in the sandbox (`passed is
True`: not unknown, not failed, not a failed call). A feedback event is one only when the
user accepted the whole suggestion and never dismissed it (`accepted_completions`). Each
example is the prompt exactly as the member saw it (the bench's chat prompt, or the FIM
prompt of the cursor's window) and the answer the member should give.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from codequorum.bench.collect import request_for
from codequorum.bench.problems import Problem
from codequorum.core.fences import fenced
from codequorum.core.prompts import build_prompt, fim_prompt, fim_template
from codequorum.distill.halves import Half, in_half
from codequorum.stores.records import FeedbackRecord
from codequorum.vocabulary.generation import Prompt
from codequorum.vocabulary.records import Record
from codequorum.vocabulary.request import Request, TaskKind

Source = Literal["collection", "feedback"]


@dataclass(frozen=True)
class TrainingExample:
    key: str  # the problem id, or the suggestion id: what validation is split by
    source: Source
    prompt: Prompt
    answer: str


@dataclass
class Selection:
    """The examples taken, and how many candidates were left out for each reason."""

    examples: list[TrainingExample] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1


def from_collection(records: Iterable[Record], problems: Mapping[str, Problem], half: Half,
                    selection: Selection | None = None, max_tokens: int = 384) -> Selection:
    """The candidates that passed their hidden tests, for the problems of `half`, each with the
    chat prompt the bench asked it with; the same answer to the same problem once."""
    selection = selection or Selection()
    seen: set[tuple[str, str]] = set()
    for record in records:
        reason = _unusable(record, problems, half)
        if reason:
            selection.leave_out(reason)
            continue
        answer = fenced(record.text.strip("\n"), problems[record.problem].language)
        if (record.problem, answer) in seen:
            selection.leave_out("the same answer again")
            continue
        seen.add((record.problem, answer))
        prompt = build_prompt(request_for(problems[record.problem], max_tokens, None), fim=None)
        selection.examples.append(TrainingExample(record.problem, "collection", prompt, answer))
    return selection


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
