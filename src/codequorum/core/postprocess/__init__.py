"""Small composable filters that turn raw model output into the exact text to insert.

One filter per module, each with its own test file (after Tabby's `postprocess/`). The
pipeline runs before checks and ranking, so they judge the text the user will see: inserted
at the cursor (replacing nothing), it gives the program the user would have typed.
"""

from __future__ import annotations

from collections.abc import Callable

from codequorum.core.postprocess.closing_overlap import remove_closing_overlap
from codequorum.core.postprocess.code_block import end_of_first_block, extract_code_block
from codequorum.core.postprocess.indentation import limit_scope_by_indentation
from codequorum.core.postprocess.line_break import fit_line_breaks
from codequorum.core.postprocess.line_scope import keep_first_line
from codequorum.core.postprocess.one_definition import keep_one_definition
from codequorum.core.postprocess.prefix_overlap import remove_prefix_overlap
from codequorum.core.postprocess.repetition import cut_repetition
from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.vocabulary.scope import Scope, scope_at


def clean_completion(raw: str, request: Request, from_chat: bool) -> str:
    """Raw output of any prompt kind → the text to insert at the cursor."""
    prefix, suffix = request.prefix, request.suffix
    text = extract_code_block(raw, request.language) if from_chat else raw
    if from_chat:
        text = remove_prefix_overlap(text, prefix)
    if _scope(request) == "line":
        return remove_closing_overlap(keep_first_line(text), suffix)
    text = _within_gap(text, prefix, suffix)
    return fit_line_breaks(text, prefix, suffix)


def _within_gap(text: str, prefix: str, suffix: str) -> str:
    """A block cut where the gap ends: where it starts repeating itself, before re-typed code,
    where it leaves the block, or after one whole definition."""
    text = remove_suffix_overlap(cut_repetition(text, prefix), suffix, prefix)
    text = limit_scope_by_indentation(text, prefix, suffix)
    return keep_one_definition(text, prefix, suffix)


def _scope(request: Request) -> Scope:
    return request.scope or scope_at(request.prefix, request.suffix)


def clean_generation(raw: str, request: Request) -> str:
    """Raw output of a chat prompt for GENERATE/FIX → the code it contains."""
    return extract_code_block(raw, request.language).strip("\n") + "\n"


def early_stop(request: Request, from_chat: bool) -> Callable[[str], int | None] | None:
    """Where generation may stop early: after the first code block of a chat answer; for FIM
    completions, at the end of the first line in "line" scope, or once whole lines have
    reached the end of the gap."""
    if from_chat:
        return end_of_first_block
    if request.kind is not TaskKind.COMPLETE:
        return None
    prefix, suffix = request.prefix, request.suffix
    if _scope(request) == "line":
        return _end_of_first_line

    def stop_at(text: str) -> int | None:
        whole_lines = text[: text.rfind("\n") + 1]  # a partial line may still become `} else {`
        kept = _within_gap(whole_lines, prefix, suffix)
        return len(kept) if len(kept) < len(whole_lines.rstrip("\n")) else None

    return stop_at


def _end_of_first_line(text: str) -> int | None:
    end = text.find("\n")
    return end if end != -1 else None


def clean(raw: str, request: Request, from_chat: bool) -> str:
    if request.kind is TaskKind.COMPLETE:
        return clean_completion(raw, request, from_chat)
    return clean_generation(raw, request)
