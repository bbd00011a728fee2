"""Where a failure points: the function to fix, found from the failure output with tree-sitter.

The innermost traceback frame in a project file that is not a test wins. When the failure is
only seen in a test (an assertion on a wrong result), the functions called on the failing test
line are looked up among the project's own sources (or in the file the user named).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from codequorum.fix.confined import OutsideRoot, confined, read_confined
from codequorum.fix.copy_plan import is_excluded, project_files
from codequorum.fix.source import SourceFormat, decode_source
from codequorum.plugins.languages.failures import (
    Definition,
    FailureFrame,
    FailureLocator,
)
from codequorum.vocabulary.errors import CodequorumError


@dataclass(frozen=True)
class Location:
    """The function to fix: its file (relative to the project root) and its lines there."""

    path: PurePosixPath  # a regular file: links are resolved to it
    definition: Definition
    source: str  # the whole file as it is now, with \n line endings
    format: SourceFormat = field(default_factory=SourceFormat)  # its encoding and line endings

    def encoded(self, text: str) -> bytes:
        """`text`, a new version of the file, as the file's bytes."""
        return self.format.encode(text, str(self.path))

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


Frames = list[tuple[PurePosixPath, FailureFrame]]  # each with the project file it names


def locate(output: str, project: Path, work_path: str, language: FailureLocator,
           target: PurePosixPath | None = None) -> Location | None:
    """The function the failure points at; restricted to `target` (relative) when given."""
    return locate_in_frames(existing_frames(output, project, work_path, language), project, language, target)


def existing_frames(output: str, project: Path, work_path: str, language: FailureLocator) -> Frames:
    """The output's frames that name a regular file of the project, outermost first."""
    return [(rel, frame) for frame in language.failure_frames(output)
            if (rel := _existing(frame, project, work_path)) is not None]


def locate_in_frames(frames: Frames, project: Path, language: FailureLocator,
                     target: PurePosixPath | None = None) -> Location | None:
    return (_in_code_frames(frames, project, language, target)
            or _called_from_tests(frames, project, language, target))


def _existing(frame: FailureFrame, project: Path, work_path: str) -> PurePosixPath | None:
    """The project file a frame names, links resolved; None when it is not a regular file of
    the project (a link out of it names no file of ours, whatever the traceback says)."""
    rel = project_relative(frame.path, project, work_path)
    if rel is None or is_excluded(rel):
        return None
    real = confined(project, rel)
    if real is None or is_excluded(real) or not (project / real).is_file():
        return None
    return real


def _in_code_frames(frames: Frames, project: Path,
                    language: FailureLocator, target: PurePosixPath | None) -> Location | None:
    for rel, frame in reversed(frames):  # innermost first
        if language.is_test_file(str(rel)) or (target is not None and rel != target):
            continue
        source = read_for_search(project, rel)
        inner = _innermost(language.definitions(source), frame.line)
        if inner is not None:
            return to_location(project, rel, inner)
    return None


def _called_from_tests(frames: Frames, project: Path,
                       language: FailureLocator, target: PurePosixPath | None) -> Location | None:
    """The project function that the failing test lines (or script lines) call most often; on a tie, the one
    the first failure calls (later failures are often knock-on effects of the same bug)."""
    called: Counter[str] = Counter()
    for rel, frame in frames:
        if language.is_test_file(str(rel)) or frame.function == "<module>":  # a test script
            called.update(dict.fromkeys(language.called_names(read_for_search(project, rel), frame.line), 1))
    order = sorted(called, key=lambda name: -called[name])  # stable: first seen wins ties
    for name in order:
        found = _definition_named(name, project, language, target)
        if found is not None:
            return found
    return None


def _definition_named(name: str, project: Path, language: FailureLocator,
                      target: PurePosixPath | None) -> Location | None:
    files = [target] if target is not None else source_files(project, language)
    for rel in files:
        source = read_for_search(project, rel)
        for definition in language.definitions(source):
            if definition.name == name:
                return to_location(project, rel, definition)
    return None


def source_files(project: Path, language: FailureLocator) -> Iterator[PurePosixPath]:
    extensions = tuple(getattr(language, "extensions", ()))
    for rel in project_files(project):
        if rel.suffix in extensions and not language.is_test_file(str(rel)):
            yield rel


def _innermost(definitions: Iterable[Definition], line: int) -> Definition | None:
    containing = [d for d in definitions if d.contains(line)]
    return min(containing, key=lambda d: d.end - d.start, default=None)


def to_location(project: Path, rel: PurePosixPath, definition: Definition) -> Location:
    """The file to change, read strictly: its encoding and line endings are kept on writing."""
    source, form = decode_source(read_confined(project, rel), str(rel))
    return Location(rel, definition, source, form)


def read_for_search(project: Path, rel: PurePosixPath) -> str:
    """A file to look into (not to change): never through a link out of the project."""
    try:
        data = read_confined(project, rel)
    except (OutsideRoot, OSError):
        return ""
    try:
        return decode_source(data, str(rel))[0]
    except CodequorumError:
        return data.decode("utf-8", errors="replace").replace("\r\n", "\n")
