"""Stop a block completion that has fallen into a loop: the same lines over and over.

Small models degenerate into repeating a line or a few (a doctest example re-typed until
the token bound, `print()` after `print()`), and every repetition is decoding time the
user waits through for text nobody wants. A run of identical units (one to `UNIT_LINES`
whole lines, indentation included, so nested closing brackets differ) is cut after its
first occurrence, as Tabby's `removeRepetitiveLines`/`removeRepetitiveBlocks` do; a run that
began in the lines before the cursor (the model re-typing them) is cut where the snippet
starts. A single line must come `LINE_TIMES` times in a row and a longer unit `UNIT_TIMES`
times, so that real code with a few equal lines (the rows of a small zero matrix) is left
alone.
"""

from __future__ import annotations

UNIT_LINES = 4
LINE_TIMES = 6
UNIT_TIMES = 3
CONTEXT_LINES = UNIT_LINES * UNIT_TIMES  # lines before the cursor a run may start in


def cut_repetition(text: str, prefix: str = "") -> str:
    """`text` up to the end of the first unit of its first run of repetitions (or, when the
    run began before the cursor, nothing of it)."""
    earlier, _, before = prefix.rpartition("\n")
    context = (earlier + "\n").splitlines(keepends=True)[-CONTEXT_LINES:] if "\n" in prefix else []
    lines = context + (before + text).splitlines(keepends=True)
    whole = lines if text.endswith("\n") else lines[:-1]  # the last line may still change
    for start in range(len(whole)):
        for size in range(1, UNIT_LINES + 1):
            unit = whole[start:start + size]
            if len(unit) < size or not any(line.strip() for line in unit):
                continue
            times = LINE_TIMES if size == 1 else UNIT_TIMES
            if start + size * times > len(context) and whole[start:start + size * times] == unit * times:
                kept = max(start + size, len(context))
                return text[:max(len("".join(whole[len(context):kept])) - len(before), 0)]
    return text
