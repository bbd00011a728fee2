"""The verified-answer log: what `generate` and `fix` got right, kept for `codequorum distill`.

An answer is kept only when its check ran in the sandbox and passed: the visible tests of a
`generate --tests-file`, the test command of a `fix`. One JSON object per line, appended; the
file is the user's own (created 0600 in a 0700 folder, never through a symbolic link), entries
older than the retention are dropped when it is written, and one entry is bounded in size, so
a hostile repository or answer cannot grow it without end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs

from codequorum.config import DistillConfig
from codequorum.vocabulary.errors import CodequorumError

Kind = Literal["generate", "fix"]
MAX_ENTRY_BYTES = 256 * 1024  # an answer (and its prompt) larger than this is not kept
MAX_LOG_BYTES = 64 * 1024 * 1024  # past this, the oldest entries go first
DAY_S = 86400.0


@dataclass(frozen=True)
class VerifiedAnswer:
    """One request and the answer that passed its check, with what the prompt is rebuilt from."""

    kind: Kind
    language: str
    instruction: str  # generate: what to write; fix: the end of the failing command's output
    answer: str  # the code that passed: the function(s) a fix answer holds, or the generated code
    member: str  # who wrote it
    verified_by: str  # what passed: "the visible tests", or the fix's test command
    code: str = ""  # fix: the function(s) as the members were shown them
    tests: str | None = None  # generate: the visible tests
    functions: tuple[str, ...] = ()  # fix: the functions shown, when several
    at: float = field(default_factory=time.time)  # Unix time

    @property
    def key(self) -> str:
        """What keeps the same request together when examples are split for validation."""
        return f"{self.kind}:{self.language}:{self.instruction}:{self.code}"

    @classmethod
    def from_json(cls, data: dict[str, object]) -> VerifiedAnswer:
        data = dict(data)
        data["functions"] = tuple(data.get("functions") or ())  # type: ignore[arg-type]
        entry = cls(**data)  # type: ignore[arg-type]
        texts = (entry.language, entry.instruction, entry.answer, entry.member, entry.verified_by,
                 entry.code, *entry.functions)
        if (entry.kind not in ("generate", "fix") or not all(isinstance(value, str) for value in texts)
                or not isinstance(entry.tests, str | None)
                or isinstance(entry.at, bool) or not isinstance(entry.at, int | float)):
            raise ValueError("not a verified answer")
        return entry


def verified_path(config: DistillConfig) -> Path:
    """[distill] verified_log, else verified.jsonl in the user data dir."""
    return config.verified_log or Path(platformdirs.user_data_dir("codequorum")) / "verified.jsonl"


def verified_log(config: DistillConfig) -> VerifiedLog:
    return VerifiedLog(verified_path(config), config.verified_retention_days)


def keep_verified(config: DistillConfig, entry: VerifiedAnswer) -> str | None:
    """Keep `entry` when [distill] keep_verified is on; a note for the user when it could not
    be kept (the command that verified it has still succeeded), else None."""
    if not config.keep_verified:
        return None
    log = verified_log(config)
    try:
        kept = log.append(entry)
    except (CodequorumError, OSError) as error:
        return f"note: the verified answer was not kept for distill: {error}"
    if not kept:
        return (f"note: the verified answer was not kept for distill: over "
                f"{MAX_ENTRY_BYTES // 1024} KB")
    return None


class VerifiedLog:
    def __init__(self, path: Path, retention_days: int | None = 90,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.retention_days = retention_days
        self._clock = clock

    def append(self, entry: VerifiedAnswer) -> bool:
        """Keep `entry`; False (and nothing written) when it is over the size bound."""
        line = _line_of(entry)
        if len(line.encode("utf-8")) > MAX_ENTRY_BYTES:
            return False
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        size = self.path.lstat().st_size if self.path.exists() else 0
        if self._has_expired() or size + len(line.encode("utf-8")) > MAX_LOG_BYTES:
            kept = [_line_of(e) for e in self._current()]
            self._rewrite(_newest_within(kept, MAX_LOG_BYTES - len(line.encode("utf-8"))))
        with self._open(os.O_WRONLY | os.O_APPEND | os.O_CREAT) as handle:
            handle.write(line)
        return True

    def entries(self) -> Iterator[VerifiedAnswer]:
        """The entries within the retention, oldest first; a line that is not one is skipped."""
        return iter(self._current())

    def _current(self) -> list[VerifiedAnswer]:
        if not self.path.exists():
            return []
        cutoff = self._cutoff()
        with self._open(os.O_RDONLY) as handle:
            found = []
            for line in handle:
                try:
                    entry = VerifiedAnswer.from_json(json.loads(line))
                except (ValueError, TypeError, AttributeError):
                    continue
                if cutoff is None or entry.at >= cutoff:
                    found.append(entry)
        return found

    def _has_expired(self) -> bool:
        cutoff = self._cutoff()
        if cutoff is None or not self.path.exists():
            return False
        with self._open(os.O_RDONLY) as handle:
            first = handle.readline()
        try:
            return float(json.loads(first).get("at", 0.0)) < cutoff
        except (ValueError, TypeError, AttributeError):
            return True  # a damaged first line: rewrite without it

    def _cutoff(self) -> float | None:
        return None if self.retention_days is None else self._clock() - self.retention_days * DAY_S

    def _rewrite(self, lines: list[str]) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        partial.unlink(missing_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        os.replace(partial, self.path)

    def _open(self, flags: int):  # type: ignore[no-untyped-def]
        try:
            descriptor = os.open(self.path, flags | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise CodequorumError(f"cannot open the verified-answer log {self.path}: {error.strerror} "
                                  "(a symbolic link is refused)") from error
        mode = "r" if flags == os.O_RDONLY else "a"
        return os.fdopen(descriptor, mode, encoding="utf-8", errors="replace")


def _line_of(entry: VerifiedAnswer) -> str:
    return json.dumps(asdict(entry), ensure_ascii=False) + "\n"


def _newest_within(lines: list[str], budget: int) -> list[str]:
    kept: list[str] = []
    for line in reversed(lines):
        budget -= len(line.encode("utf-8"))
        if budget < 0:
            break
        kept.append(line)
    return kept[::-1]
