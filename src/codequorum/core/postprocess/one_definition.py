"""Stop a block completion after one whole definition: the next one is the next suggestion's.

Where the gap may hold more than one definition (at the top level of a file, or between a
class's methods) nothing in the enclosing block ends it, and a model that has finished the
function the user began goes on writing the next one, a test, a `__main__` block, until the
token bound: seconds of decoding nobody reads before accepting (Copilot and Tabby suggest one
definition at a time too). Once a definition has its body, the block ends before the next
line back at the definition's indentation that starts a sibling definition (a header or a
decorator) or any top-level code. Closing lines (`}`) stay with the definition; inside a
function, the code after a nested definition (`return inner(x)`) is still the gap's.
"""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CursorLine, indent, is_closing_line, is_definition


def keep_one_definition(text: str, prefix: str, suffix: str) -> str:
    """`text` up to the line that starts a second definition or, at the top level, other code."""
    before = CursorLine.of(prefix, suffix).before
    header: int | None = None  # the indentation of the definition being written
    has_body = False
    position = 0
    for line in (before + text).splitlines(keepends=True):
        if line.strip():
            level = indent(line)
            if has_body and header is not None and level <= header and not is_closing_line(line):
                if level == 0 or _starts_definition(line):
                    return text[:position - len(before)]
                header, has_body = None, False  # back in the enclosing body: the gap goes on
            if header is None and _starts_definition(line):
                header = level
            elif header is not None and level > header:
                has_body = True
        position += len(line)
    return text


def _starts_definition(line: str) -> bool:
    return is_definition(line) or line.lstrip().startswith("@")
