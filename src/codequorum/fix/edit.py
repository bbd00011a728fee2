"""A candidate as an edit of several regions: each changed function replaced in its file.

Each function's new code is re-indented to where the original stood and put in its lines'
place; the regions of one file are replaced from the bottom up, so the line numbers of the
ones above still hold. A new helper goes just above the first changed function that calls it,
at that function's indentation (a method's helper becomes a method of the same class).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from codequorum.fix.candidates import AnsweredFunctions
from codequorum.fix.locate import Location
from codequorum.fix.related import FixSite
from codequorum.plugins.languages.failures import FailureLocator


def splice(location: Location, function: str) -> str:
    """The file with the located function replaced by `function` (at the same indentation)."""
    lines = location.source.split("\n")
    start, end = location.definition.start - 1, location.definition.end
    return "\n".join(lines[:start] + _indented(function, location.definition.indent) + lines[end:])


def edited_files(site: FixSite, answered: AnsweredFunctions,
                 language: FailureLocator) -> dict[PurePosixPath, str]:
    """Every file of the site with the answer's functions in place, changed or not."""
    hosts = _helper_hosts(site, answered, language)
    edited = {}
    for path in site.files:
        lines = site.file(path).source.split("\n")
        for location in reversed(site.in_file(path)):  # bottom up: the lines above keep their numbers
            name = location.definition.name
            if name not in answered.functions:
                continue
            block = [answered.helpers[helper] for helper in hosts.get(name, ())] + [answered.functions[name]]
            start, end = location.definition.start - 1, location.definition.end
            lines[start:end] = _with_helpers(block, location.definition.indent)
        edited[path] = "\n".join(lines)
    return edited


def _with_helpers(block: list[str], indent: str) -> list[str]:
    gap = [""] * (2 if not indent else 1)  # PEP 8: two blank lines between top-level functions
    rows: list[str] = []
    for number, function in enumerate(block):
        rows += _indented(function, indent) + (gap if number < len(block) - 1 else [])
    return rows


def _helper_hosts(site: FixSite, answered: AnsweredFunctions,
                  language: FailureLocator) -> dict[str, list[str]]:
    """For each changed function, the new helpers placed above it: each helper above the first
    changed function (in site order) that calls it, else above the one its caller went to."""
    hosts: dict[str, list[str]] = {}
    placed: dict[str, str] = {}
    order = [name for name in site.names if name in answered.functions]
    pending = [(name, answered.functions[name]) for name in order]
    while pending:
        host_or_helper, code = pending.pop(0)
        host = placed.get(host_or_helper, host_or_helper)
        for called in language.called_names(code, 1, code.count("\n") + 1):
            if called in answered.helpers and called not in placed:
                placed[called] = host
                hosts.setdefault(host, []).append(called)
                pending.append((called, answered.helpers[called]))
    return hosts


def _indented(function: str, indent: str) -> list[str]:
    return [indent + row if row.strip() else "" for row in function.rstrip("\n").split("\n")]
