"""Where a failure points: the function to fix, found from the failure output with tree-sitter.

The innermost traceback frame in a project file that is not a test wins. When the failure is
only seen in a test (an assertion on a wrong result), the functions called on the failing test
line are looked up among the project's own sources (or in the file the user named).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codequorum.fix.project import is_excluded, project_files
from codequorum.plugins.languages.failures import (
    Definition,
    FailureFrame,
    FailureLocator,
)


@dataclass(frozen=True)
class Location:
    """The function to fix: its file (relative to the project root) and its lines there."""

    path: PurePosixPath
    definition: Definition
    source: str  # the whole file as it is now

    @property
    def code(self) -> str:
        lines = self.source.split("\n")
        return "\n".join(lines[self.definition.start - 1:self.definition.end]) + "\n"


def project_relative(printed: str, project: Path, work_path: str) -> PurePosixPath | None:
    """A path as the output printed it, relative to the project root; None when outside it."""
    path = PurePosixPath(printed)
    for root in (PurePosixPath(work_path), PurePosixPath(project)):
        if path.is_absolute() and root in path.parents:
            return path.relative_to(root)
    if path.is_absolute() or ".." in path.parts:
        return None
    return path


def locate(output: str, project: Path, work_path: str, language: FailureLocator,
           target: PurePosixPath | None = None) -> Location | None:
    """The function the failure points at; restricted to `target` (relative) when given."""
    frames = [(rel, frame) for frame in language.failure_frames(output)
              if (rel := _existing(frame, project, work_path)) is not None]
    return (_in_code_frames(frames, project, language, target)
            or _called_from_tests(frames, project, language, target))


def _existing(frame: FailureFrame, project: Path, work_path: str) -> PurePosixPath | None:
    rel = project_relative(frame.path, project, work_path)
    if rel is None or is_excluded(rel) or not (project / rel).is_file():
        return None
    return rel


def _in_code_frames(frames: list[tuple[PurePosixPath, FailureFrame]], project: Path,
                    language: FailureLocator, target: PurePosixPath | None) -> Location | None:
    for rel, frame in reversed(frames):  # innermost first
        if language.is_test_file(str(rel)) or (target is not None and rel != target):
            continue
        source = _read(project / rel)
        inner = _innermost(language.definitions(source), frame.line)
        if inner is not None:
            return Location(rel, inner, source)
    return None


def _called_from_tests(frames: list[tuple[PurePosixPath, FailureFrame]], project: Path,
                       language: FailureLocator, target: PurePosixPath | None) -> Location | None:
    """The project function that the failing test lines (or script lines) call most often; on a tie, the one
    the first failure calls (later failures are often knock-on effects of the same bug)."""
    called: Counter[str] = Counter()
    for rel, frame in frames:
        if language.is_test_file(str(rel)) or frame.function == "<module>":  # a test script
            called.update(dict.fromkeys(language.called_names(_read(project / rel), frame.line), 1))
    order = sorted(called, key=lambda name: -called[name])  # stable: first seen wins ties
    for name in order:
        found = _definition_named(name, project, language, target)
        if found is not None:
            return found
    return None


def _definition_named(name: str, project: Path, language: FailureLocator,
                      target: PurePosixPath | None) -> Location | None:
    files = [target] if target is not None else _sources(project, language)
    for rel in files:
        source = _read(project / rel)
        for definition in language.definitions(source):
            if definition.name == name:
                return Location(rel, definition, source)
    return None


def _sources(project: Path, language: FailureLocator) -> Iterator[PurePosixPath]:
    extensions = tuple(getattr(language, "extensions", ()))
    for rel in project_files(project):
        if rel.suffix in extensions and not language.is_test_file(str(rel)):
            yield rel


def _innermost(definitions: Iterable[Definition], line: int) -> Definition | None:
    containing = [d for d in definitions if d.contains(line)]
    return min(containing, key=lambda d: d.end - d.start, default=None)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")
