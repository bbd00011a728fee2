"""Small composable filters that turn raw model output into a snippet fit to show.

One filter per module, each with its own test file (after Tabby's `postprocess/`).
"""

from __future__ import annotations

from collections.abc import Callable

from codequorum.core.postprocess.code_block import end_of_first_block, extract_code_block
from codequorum.core.postprocess.indentation import limit_scope_by_indentation
from codequorum.core.postprocess.prefix_overlap import remove_prefix_overlap
from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap
from codequorum.vocabulary.request import Request, TaskKind


def clean_completion(raw: str, request: Request, from_chat: bool) -> str:
    """Raw output of any prompt kind → the text to insert at the cursor."""
    text = extract_code_block(raw, request.language) if from_chat else raw
    if from_chat:
        text = remove_prefix_overlap(text, request.prefix)
    text = remove_suffix_overlap(text, request.suffix)
    text = limit_scope_by_indentation(text, request.prefix, request.suffix)
    return text.rstrip() if not request.suffix.strip() else text.rstrip(" \t")


def clean_generation(raw: str, request: Request) -> str:
    """Raw output of a chat prompt for GENERATE/FIX → the code it contains."""
    return extract_code_block(raw, request.language).strip("\n") + "\n"


def early_stop(request: Request, from_chat: bool) -> Callable[[str], int | None] | None:
    """Where generation may stop early: after the first code block of a chat answer, or,
    for FIM completions, once the code has left the cursor's block."""
    if from_chat:
        return end_of_first_block
    if request.kind is not TaskKind.COMPLETE:
        return None

    def stop_at(text: str) -> int | None:
        whole_lines = text[: text.rfind("\n") + 1]  # a partial line may still become `} else {`
        kept = limit_scope_by_indentation(whole_lines, request.prefix, request.suffix)
        return len(kept) if len(kept) < len(whole_lines.rstrip("\n")) else None

    return stop_at


def clean(raw: str, request: Request, from_chat: bool) -> str:
    if request.kind is TaskKind.COMPLETE:
        return clean_completion(raw, request, from_chat)
    return clean_generation(raw, request)

