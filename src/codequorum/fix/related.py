"""The functions a fix may have to change together: the located one and those around it.

A bug is often not where the failure surfaces: a test of `report` fails because `report`'s
helper rounds wrongly, or two functions each have a bug. Besides the function `locate` finds
(always first), the site holds, in this order of priority:

1. the other project functions the traceback passes through (innermost first);
2. the project functions the failing test lines call (the most called first), except one that
   calls a function already taken (its test fails through that one: a knock-on effect);
3. the callees of those functions: defined in the same file, or, when the search is not
   confined to one file, defined once in the project's sources (a name defined in several
   files is ambiguous and left out), breadth first, `MAX_DEPTH` calls deep;
4. the project functions the failing tests call elsewhere in their bodies (the set-up of
   what the failing line checks: `stock.add(...)` before `assert stock.count(...) == 5`),
   with the same exception.

Nested and overlapping definitions, and a second function of an already-taken name, are left
out, so each function's name identifies it in a model's answer. At most `MAX_FUNCTIONS`
functions and `MAX_CODE_CHARS` of their code are taken (the located one always).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from codequorum.fix.locate import (
    Frames,
    Location,
    existing_frames,
    locate_in_frames,
    read_for_search,
    source_files,
    to_location,
)
from codequorum.plugins.languages.failures import Definition, FailureLocator
from codequorum.vocabulary.errors import CodequorumError

MAX_FUNCTIONS = 4
MAX_CODE_CHARS = 6000  # of the functions' code shown to the members together
MAX_DEPTH = 2  # callees of callees


@dataclass(frozen=True)
class FixSite:
    """The functions to fix together; `functions[0]` is the one the failure points at."""

    functions: tuple[Location, ...]

    @property
    def primary(self) -> Location:
        return self.functions[0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(location.definition.name for location in self.functions)

    @property
    def files(self) -> tuple[PurePosixPath, ...]:
        """The files involved, the primary's first."""
        return tuple(dict.fromkeys(location.path for location in self.functions))

    def in_file(self, path: PurePosixPath) -> list[Location]:
        """The site's functions in `path`, in source order."""
        return sorted((loc for loc in self.functions if loc.path == path), key=lambda loc: loc.definition.start)

    def file(self, path: PurePosixPath) -> Location:
        """Any of the site's functions in `path`: they share its text and format."""
        return next(loc for loc in self.functions if loc.path == path)


def locate_site(output: str, project: Path, work_path: str, language: FailureLocator,
                target: PurePosixPath | None = None, limit: int = MAX_FUNCTIONS) -> FixSite | None:
    """The functions to fix for this failure output; None when it names none."""
    frames = existing_frames(output, project, work_path, language)
    primary = locate_in_frames(frames, project, language, target)
    if primary is None:
        return None
    index = _Index(project, language, target)
    site = _Gathering(index, [primary], limit)
    for rel, frame in reversed(frames):  # the traceback's path through the code, innermost first
        if not language.is_test_file(str(rel)) and (target is None or rel == target):
            site.add(index.around(rel, frame.line))
    on_lines, in_tests = _called_by_failing_tests(frames, index, language)
    for name in _most_first(on_lines):
        site.add_unless_knock_on(index.named(name, near=None))
    site.add_callees(MAX_DEPTH)
    for name in _most_first(in_tests):
        site.add_unless_knock_on(index.named(name, near=None))
    return FixSite(tuple(site.taken))


def _called_by_failing_tests(frames: Frames, index: _Index,
                             language: FailureLocator) -> tuple[Counter[str], Counter[str]]:
    """What the failing test lines call, and what the failing tests call anywhere (their set-up
    too), each name counted once per frame."""
    on_lines: Counter[str] = Counter()
    in_tests: Counter[str] = Counter()
    for rel, frame in frames:
        if language.is_test_file(str(rel)) or frame.function == "<module>":  # a test, or a script
            text = index.text(rel)
            on_lines.update(dict.fromkeys(language.called_names(text, frame.line), 1))
            test = index.enclosing(rel, frame.line)
            if test is not None:
                in_tests.update(dict.fromkeys(language.called_names(text, test.start, test.end), 1))
    return on_lines, in_tests


def _most_first(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=lambda name: -counts[name])  # stable: the first seen wins ties


@dataclass
class _Gathering:
    index: _Index
    taken: list[Location]
    limit: int
    chars: int = 0

    def __post_init__(self) -> None:
        self.chars = sum(len(loc.code) for loc in self.taken)

    def add(self, location: Location | None) -> bool:
        if location is None or len(self.taken) >= self.limit or self._clashes(location):
            return False
        if self.chars + len(location.code) > MAX_CODE_CHARS:
            return False
        self.taken.append(location)
        self.chars += len(location.code)
        return True

    def add_unless_knock_on(self, location: Location | None) -> bool:
        """Add a function a failing test calls, unless it calls one already taken: its test
        then fails through that one (`double` calling a broken `add`), a knock-on effect."""
        if location is None or set(self.index.callees(location)) & {loc.definition.name for loc in self.taken}:
            return False
        return self.add(location)

    def add_callees(self, depth: int) -> None:
        frontier = list(self.taken)
        for _ in range(depth):
            found = []
            for caller in frontier:
                for name in self.index.callees(caller):
                    callee = self.index.named(name, near=caller.path)
                    if self.add(callee):
                        found.append(callee)
            frontier = found

    def _clashes(self, new: Location) -> bool:
        definition = new.definition
        return any(loc.definition.name == definition.name
                   or (loc.path == new.path and _overlap(loc.definition, definition))
                   for loc in self.taken)


def _overlap(a: Definition, b: Definition) -> bool:
    return a.start <= b.end and b.start <= a.end


@dataclass
class _Index:
    """The project's sources as the search needs them, each file read and parsed once."""

    project: Path
    language: FailureLocator
    target: PurePosixPath | None
    _texts: dict[PurePosixPath, str] = field(default_factory=dict)
    _definitions: dict[PurePosixPath, list[Definition]] = field(default_factory=dict)
    _everywhere: dict[str, list[PurePosixPath]] | None = None

    def text(self, rel: PurePosixPath) -> str:
        if rel not in self._texts:
            self._texts[rel] = read_for_search(self.project, rel)
        return self._texts[rel]

    def definitions(self, rel: PurePosixPath) -> list[Definition]:
        if rel not in self._definitions:
            self._definitions[rel] = self.language.definitions(self.text(rel))
        return self._definitions[rel]

    def enclosing(self, rel: PurePosixPath, line: int) -> Definition | None:
        """The innermost definition around `line` of `rel`."""
        containing = [d for d in self.definitions(rel) if d.contains(line)]
        return min(containing, key=lambda d: d.end - d.start, default=None)

    def around(self, rel: PurePosixPath, line: int) -> Location | None:
        return self._location(rel, self.enclosing(rel, line))

    def named(self, name: str, near: PurePosixPath | None) -> Location | None:
        """The definition of `name`: in `near` first, else in the one file (the target, or
        the one source file of the project) that defines it."""
        if near is not None:
            found = self._first(near, name)
            if found is not None:
                return found
        if self.target is not None:
            return self._first(self.target, name)
        files = self._defining().get(name, [])
        if near is not None and len(files) != 1:
            return None  # a callee's name defined in several files: which one is meant is unknown
        return self._first(files[0], name) if files else None

    def callees(self, caller: Location) -> list[str]:
        definition = caller.definition
        names = self.language.called_names(self.text(caller.path), definition.start, definition.end)
        return [name for name in dict.fromkeys(names) if name != definition.name]

    def _first(self, rel: PurePosixPath, name: str) -> Location | None:
        definition = next((d for d in self.definitions(rel) if d.name == name), None)
        return self._location(rel, definition)

    def _location(self, rel: PurePosixPath, definition: Definition | None) -> Location | None:
        if definition is None:
            return None
        try:
            return to_location(self.project, rel, definition)
        except (CodequorumError, OSError):  # not valid in its encoding, or unreadable: not taken
            return None

    def _defining(self) -> dict[str, list[PurePosixPath]]:
        if self._everywhere is None:
            self._everywhere = {}
            for rel in source_files(self.project, self.language):
                for definition in self.definitions(rel):
                    files = self._everywhere.setdefault(definition.name, [])
                    if rel not in files:
                        files.append(rel)
        return self._everywhere
