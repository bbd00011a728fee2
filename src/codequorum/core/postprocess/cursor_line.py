"""Where the cursor sits in its line, and the indentation around it: what the filters of a
completion need to know about the gap they fill."""

from __future__ import annotations

import re
from dataclasses import dataclass

CLOSERS = ")]}"
OPENERS = "([{"

_DEFINITION = re.compile(
    r"^\s*(?:export\s+|pub(?:\([\w:]+\))?\s+|public\s+|private\s+|protected\s+|static\s+|async\s+)*"
    r"(?:def|class|function|fn|func|interface|impl|struct|enum|trait|module|namespace)\b"
)
_SIGNATURE = re.compile(r"^\s*(?!(?:if|for|while|switch|catch|else|do|try|return)\b)[\w<>\[\],.*&:~ ]+\(.*\)"
                        r"[^;{]*\{\s*$")


@dataclass(frozen=True)
class CursorLine:
    before: str  # the cursor's line up to the cursor
    after: str  # the cursor's line from the cursor on
    next_code_line: str | None  # the first line after the cursor's that holds code

    @classmethod
    def of(cls, prefix: str, suffix: str) -> CursorLine:
        before = prefix.rpartition("\n")[2]
        after, _, later = suffix.partition("\n")
        return cls(before, after, next((line for line in later.split("\n") if line.strip()), None))

    @property
    def continues_code(self) -> bool:
        """Code before the cursor on its line: the snippet's first line continues it."""
        return bool(self.before.strip())

    @property
    def before_code(self) -> bool:
        """Only indentation before the cursor and code after it: whole lines go above it."""
        return not self.before.strip() and bool(self.after.strip())

    @property
    def following_code_line(self) -> str | None:
        """The first code the document has after the gap."""
        return self.before + self.after if self.before_code else self.next_code_line


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def is_closing_line(line: str) -> bool:
    """`}`, `});`, `} else {`: a line that starts by closing a bracket."""
    stripped = line.strip()
    return bool(stripped) and stripped[0] in CLOSERS


def is_definition(line: str) -> bool:
    """A definition's header: `def`, `class`, `function`, `fn`..., or a C-like signature with `{`."""
    return bool(_DEFINITION.match(line) or _SIGNATURE.match(line))
