"""From a located function to candidate fixes: the FIX request, and answers spliced back in.

Members answer with the whole corrected function (a chat prompt, `core/prompts.py`); the
function with the same name is taken from the answer, re-indented to where the original
stood, and put in its place in the file.
"""

from __future__ import annotations

import textwrap

from codequorum.core.repair import bounded
from codequorum.fix.locate import Location
from codequorum.plugins.languages.failures import FailureLocator
from codequorum.vocabulary.request import Budget, Request, TaskKind

MAX_FAILURE_CHARS = 3000  # the end of the output, where the assertion and the traceback are


def fix_request(location: Location, failure_output: str, language: str, max_tokens: int,
                deadline_s: float | None) -> Request:
    return Request(
        TaskKind.FIX,
        language=language,
        prefix=location.code,
        instruction=failure_tail(failure_output),
        path=None,
        max_tokens=max_tokens,
        budget=Budget(deadline_s=deadline_s),
    )


def failure_tail(output: str, limit: int = MAX_FAILURE_CHARS) -> str:
    return bounded(output, limit)


def function_in_answer(answer: str, name: str, language: FailureLocator) -> str | None:
    """The outermost definition of `name` in the answer, dedented; None when there is none."""
    named = [d for d in language.definitions(answer) if d.name == name]
    if not named:
        return None
    outer = min(named, key=lambda d: (len(d.indent), d.start))
    lines = answer.split("\n")[outer.start - 1:outer.end]
    return textwrap.dedent("\n".join(lines)).rstrip() + "\n"


def splice(location: Location, function: str) -> str:
    """The file with the located function replaced by `function` (at the same indentation)."""
    indent = location.definition.indent
    body = [indent + row if row.strip() else "" for row in function.rstrip("\n").split("\n")]
    lines = location.source.split("\n")
    start, end = location.definition.start - 1, location.definition.end
    return "\n".join(lines[:start] + body + lines[end:])
