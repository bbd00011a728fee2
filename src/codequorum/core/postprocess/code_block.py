"""Instruct models wrap code in markdown and add prose: keep only the code."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)",
                    re.DOTALL | re.MULTILINE)


def extract_code_block(text: str, language: str | None = None) -> str:
    """The best fenced block: the longest one tagged with the language, else the longest.

    Text without any fence is returned unchanged: small models often answer with bare code.
    """
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    if not blocks:
        return text
    tagged = [body for tag, body in blocks if language and tag in _tags(language)]
    pool = tagged or [body for _tag, body in blocks]
    return max(pool, key=len).rstrip("\n")


def code_blocks(text: str) -> list[str]:
    """Every fenced block's code, in order (none when the text has no fence)."""
    return [m.group(3).rstrip("\n") for m in _FENCE.finditer(text)]


def _tags(language: str) -> set[str]:
    aliases = {"python": {"py", "python3"}, "javascript": {"js"}, "typescript": {"ts"},
               "cpp": {"c++", "cc", "c"}, "rust": {"rs"}, "go": {"golang"}}
    return {language, *aliases.get(language, set())}


_CLOSED_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)


def end_of_first_block(text: str) -> int | None:
    """Where the first fenced block closes: what follows is prose, not worth generating."""
    match = _CLOSED_FENCE.search(text)
    return match.end() if match else None
