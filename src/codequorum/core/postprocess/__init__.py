"""Small composable filters that turn raw model output into a snippet fit to show.

One filter per module, each with its own test file (after Tabby's `postprocess/`).
"""

from __future__ import annotations

from codequorum.core.postprocess.code_block import extract_code_block
from codequorum.core.postprocess.indentation import limit_scope_by_indentation
from codequorum.core.postprocess.prefix_overlap import remove_prefix_overlap
from codequorum.core.postprocess.suffix_overlap import remove_suffix_overlap
from codequorum.core.request import Request, TaskKind


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


def clean(raw: str, request: Request, from_chat: bool) -> str:
    if request.kind is TaskKind.COMPLETE:
        return clean_completion(raw, request, from_chat)
    return clean_generation(raw, request)

