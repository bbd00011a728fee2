"""From located functions to candidate fixes: the FIX request, and what an answer changes.

Members answer with the whole corrected function, or, when several functions are shown, with
the ones they change (a chat prompt, `core/prompts.py`). Each function is taken from the
answer by name, wherever it stands in it: one the answer leaves out stays as it is; a new
function that a changed one calls is kept as a new helper (`fix/edit.py` puts it in place);
anything else the answer holds (imports, usage examples, other functions restated) is left out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from codequorum.core.postprocess.code_block import code_blocks
from codequorum.core.repair import bounded
from codequorum.fix.related import FixSite
from codequorum.plugins.languages.failures import Definition, FailureLocator
from codequorum.vocabulary.request import Budget, Request, TaskKind

MAX_FAILURE_CHARS = 3000  # the end of the output, where the assertion and the traceback are
MAX_TOKEN_SHARES = 3  # `max_tokens` is per function shown, up to this many functions' worth


@dataclass(frozen=True)
class AnsweredFunctions:
    """What one answer says the site's functions become."""

    functions: dict[str, str] = field(default_factory=dict)  # a site function's name -> its new code
    helpers: dict[str, str] = field(default_factory=dict)  # a new function's name -> its code

    @property
    def empty(self) -> bool:
        return not self.functions

    def over(self, base: AnsweredFunctions) -> AnsweredFunctions:
        """This answer, with `base`'s code for what it leaves out (a repair of an attempt)."""
        return AnsweredFunctions({**base.functions, **self.functions}, {**base.helpers, **self.helpers})

    @property
    def code(self) -> dict[str, str]:
        """Every function's new code by name: the site's, then the new helpers."""
        return {**self.functions, **self.helpers}


def fix_request(site: FixSite, failure_output: str, language: str, max_tokens: int,
                deadline_s: float | None, hard_cap_s: float | None = None) -> Request:
    several = len(site.functions) > 1
    return Request(
        TaskKind.FIX,
        language=language,
        prefix=shown_code(site),
        instruction=failure_tail(failure_output),
        path=None,
        functions=site.names if several else (),
        max_tokens=max_tokens * min(len(site.functions), MAX_TOKEN_SHARES),
        budget=Budget(deadline_s=deadline_s, hard_cap_s=hard_cap_s),
    )


def shown_code(site: FixSite, current: dict[str, str] | None = None) -> str:
    """The site's code as the members see it: one function as it stands in its file; several
    dedented, file by file in source order, with `current` (name -> code) in place of theirs."""
    current = current or {}
    if len(site.functions) == 1:
        name = site.primary.definition.name
        return current[name] if name in current else site.primary.code
    parts = [current.get(loc.definition.name) or textwrap.dedent(loc.code)
             for path in site.files for loc in site.in_file(path)]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def failure_tail(output: str, limit: int = MAX_FAILURE_CHARS) -> str:
    return bounded(output, limit)


def answer_sources(text: str, raw_text: str = "") -> list[str]:
    """Where an answer's functions may be: its cleaned code, then every code block of the raw
    answer (a model sometimes puts each function in a block of its own)."""
    return [text, *(block for block in code_blocks(raw_text) if block.strip() != text.strip())]


def functions_in_answer(sources: Sequence[str], site: FixSite, language: FailureLocator,
                        defined: frozenset[str] = frozenset()) -> AnsweredFunctions:
    """Each site function the answer holds (the first source that has it wins), and the new
    helpers they call; `defined` are the names the site's files already define, never new."""
    functions: dict[str, str] = {}
    for name in site.names:
        for source in sources:
            found = function_in_answer(source, name, language)
            if found is not None:
                functions[name] = found
                break
    known = set(site.names) | defined
    offered = {d.name: _code_of(source, d) for source in sources
               for d in _outermost(language.definitions(source)) if d.name and d.name not in known}
    return AnsweredFunctions(functions, _called_helpers(functions, offered, language))


def function_in_answer(answer: str, name: str, language: FailureLocator) -> str | None:
    """The outermost definition of `name` in the answer, dedented; None when there is none."""
    named = [d for d in language.definitions(answer) if d.name == name]
    if not named:
        return None
    outer = min(named, key=lambda d: (len(d.indent), d.start))
    return _code_of(answer, outer)


def _code_of(source: str, definition: Definition) -> str:
    lines = source.split("\n")[definition.start - 1:definition.end]
    return textwrap.dedent("\n".join(lines)).rstrip() + "\n"


def _outermost(definitions: list[Definition]) -> list[Definition]:
    """Definitions not inside another one (a class's methods count: a class is no function)."""
    return [d for d in definitions
            if not any(o is not d and o.start <= d.start and d.end <= o.end and len(o.indent) < len(d.indent)
                       for o in definitions)]


def _called_helpers(functions: dict[str, str], offered: dict[str, str],
                    language: FailureLocator) -> dict[str, str]:
    """The offered new functions the changed ones call, directly or through one another."""
    helpers: dict[str, str] = {}
    pending = list(functions.values())
    while pending:
        code = pending.pop(0)
        for name in language.called_names(code, 1, code.count("\n") + 1):
            if name in offered and name not in helpers:
                helpers[name] = offered[name]
                pending.append(offered[name])
    return helpers
