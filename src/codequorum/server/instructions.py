"""Where `generate` takes its instruction from and where the code goes.

The instruction is the selected text, or the block of line comments around the cursor's line;
the code is inserted on the line after it, at the instruction's indentation.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


class InstructionError(ValueError):
    """There is no instruction at the place the client named."""


@dataclass(frozen=True)
class GenerateSite:
    instruction: str
    insert_at: int  # offset where the generated code is inserted (start of a line, or the end)
    indent: str


def site_from_selection(text: str, start: int, end: int, comment_prefix: str) -> GenerateSite:
    selected = text[start:end]
    if not selected.strip():
        raise InstructionError("the selection is empty: select the instruction (a comment) first")
    first_line_start = text.rfind("\n", 0, start) + 1
    indent = _indent(text[first_line_start:])
    instruction = _strip_comments(selected.splitlines(), comment_prefix)
    return GenerateSite(instruction, _after_line(text, max(start, end - 1)), indent)


def site_from_line(text: str, line: int, comment_prefix: str) -> GenerateSite:
    """The comment block that holds `line` (0-based)."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        raise InstructionError(f"line {line} is outside the document (0..{len(lines) - 1})")
    if not _is_comment(lines[line], comment_prefix):
        raise InstructionError(
            f"line {line} is not a comment: write the instruction as a {comment_prefix} comment "
            "and put the cursor on it, or select the instruction"
        )
    first, last = line, line
    while first > 0 and _is_comment(lines[first - 1], comment_prefix):
        first -= 1
    while last + 1 < len(lines) and _is_comment(lines[last + 1], comment_prefix):
        last += 1
    instruction = _strip_comments(lines[first:last + 1], comment_prefix)
    line_end = sum(len(row) + 1 for row in lines[:last + 1]) - 1
    return GenerateSite(instruction, _after_line(text, line_end), _indent(lines[first]))


def indent_code(code: str, indent: str) -> str:
    """`code` re-indented so that its outermost lines start at `indent`."""
    body = textwrap.dedent(code).strip("\n")
    return textwrap.indent(body, indent) + "\n"


def _after_line(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline == -1 else newline + 1


def _is_comment(line: str, comment_prefix: str) -> bool:
    return line.lstrip().startswith(comment_prefix)


def _strip_comments(lines: list[str], comment_prefix: str) -> str:
    stripped = []
    for line in lines:
        content = line.strip()
        if content.startswith(comment_prefix):
            content = content[len(comment_prefix):].strip()
        stripped.append(content)
    return "\n".join(stripped).strip()


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]
