"""The collection cache: one JSON line per candidate, appended as it is produced.

The bench writes it; the ranker's training and the router's memory read it, so the format
lives here, below all three.

Appending line by line makes a collection resumable: after an interruption, what is on disk
is skipped and only the missing (problem, member, setting) cells are generated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codequorum.vocabulary.evidence import Evidence, TestOutcome, TestRun


@dataclass(frozen=True)
class Setting:
    """How a member was sampled: greedy (samples=1, temperature=0) or k samples at T."""

    samples: int = 1
    temperature: float = 0.0

    @property
    def key(self) -> str:
        return f"k{self.samples}-t{self.temperature:g}"

    @classmethod
    def parse(cls, key: str) -> Setting | None:
        """The setting of a key such as "k3-t0.6"; None for a key in another form."""
        samples, sep, temperature = key.removeprefix("k").partition("-t")
        try:
            return cls(int(samples), float(temperature)) if sep and key.startswith("k") else None
        except ValueError:
            return None


@dataclass
class Record:
    problem: str
    member: str
    setting: str
    index: int  # sample number within the cell
    text: str
    tokens: int
    compute_seconds: float
    cost: float
    mean_logprob: float | None
    checks: dict[str, Any] = field(default_factory=dict)  # visible evidence (`stored_evidence`), prompt_kind
    passed: bool | None = None  # hidden tests, run in the sandbox
    error: str | None = None  # the member call's error, when it produced nothing

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.problem, self.member, self.setting)

    @property
    def prompt_kind(self) -> str:
        return str(self.checks.get("prompt_kind", "chat"))

    def evidence(self) -> Evidence:
        """The visible evidence the record keeps, as the checks would have recorded it."""
        results = self.checks.get("visible_results")
        return Evidence(syntax=self.checks.get("syntax"), tests=TestOutcome.from_json(self.checks.get("visible")),
                        test_run=TestRun(tuple(results)) if results is not None else None)


def stored_evidence(evidence: Evidence) -> dict[str, Any]:
    """What a record keeps of a candidate's evidence: syntax and the visible tests' outcome
    (the keys of `Record.checks` on disk: `syntax`, `visible`, `visible_results`)."""
    return {
        "syntax": evidence.syntax,
        "visible": evidence.tests.to_json() if evidence.tests else None,
        "visible_results": list(evidence.test_run.results) if evidence.test_run else None,
    }


class CandidateStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def records(self) -> Iterator[Record]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    yield Record(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line cut short by an interruption: regenerated on resume

    def done_cells(self) -> set[tuple[str, str, str]]:
        return set(self.cells())

    def cells(self) -> dict[tuple[str, str, str], list[Record]]:
        """The stored records by (problem, member, setting), in sampling order."""
        return add_to_cells({}, self.records())

    def append(self, records: list[Record]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            if handle.tell() and not self._ends_with_newline():
                handle.write("\n")  # seal a line cut short by an interruption
            for record in records:
                handle.write(json.dumps(asdict(record)) + "\n")
            handle.flush()

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, 2)
            return handle.read(1) == b"\n"


def add_to_cells(cells: dict[tuple[str, str, str], list[Record]],
                 records: Iterable[Record]) -> dict[tuple[str, str, str], list[Record]]:
    """`cells` with `records` added, each cell kept in sampling order."""
    touched = set()
    for record in records:
        cells.setdefault(record.cell, []).append(record)
        touched.add(record.cell)
    for cell in touched:
        cells[cell].sort(key=lambda r: r.index)
    return cells
