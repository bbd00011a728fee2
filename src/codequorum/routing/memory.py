"""The router's memory: past requests (their text and embedding) and how each member did on them.

Built by `codequorum router build` from
- benchmark runs: a `codequorum bench ... --out DIR` folder's `candidates.jsonl`, one entry per
  problem, a member right when its candidates passed the hidden tests (the share of them that
  passed, over every setting collected);
- editor feedback: the language server's feedback store (SQLite or PostgreSQL, `stores/`), one
  entry per distinct request text, a member right when its suggestion was accepted, wrong when
  dismissed, right by the share taken when it was accepted in part (a word or a line at a time).

Stored as JSON lines, one entry each with its embedding, so routing never re-embeds the memory;
or in a store, which the replicas of a team server share (`routing/memory_source.py`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import platformdirs

from codequorum.routing.embed import Embedder
from codequorum.routing.entry import Entry
from codequorum.stores.open import open_store
from codequorum.stores.records import FeedbackRecord
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.records import CandidateStore
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.vocabulary.store_location import StoreLocation

PREFIX_TAIL_CHARS = 500  # what the feedback store keeps of a completion's prefix


def default_memory_path() -> Path:
    return Path(platformdirs.user_data_dir("codequorum")) / "router-memory.jsonl"


def request_text(request: Request) -> str:
    """What the router embeds: the instruction and code of a generation, the text just before
    the cursor of a completion (as much as the feedback store keeps)."""
    if request.kind is TaskKind.COMPLETE:
        return request.prefix[-PREFIX_TAIL_CHARS:]
    return "\n".join(part for part in (request.instruction or "", request.prefix) if part.strip())


class RouterMemory:
    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        vectors = [e.embedding for e in self.entries]
        self.matrix = np.asarray(vectors, dtype=np.float32) if vectors else np.zeros((0, 0), np.float32)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path) -> RouterMemory:
        if not path.is_file():
            raise CodequorumError(f"no router memory at {path}: build one with "
                                  "`codequorum router build --from BENCH_OUT_DIR`")
        entries = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(Entry(**json.loads(line)))
            except (ValueError, TypeError) as error:
                raise CodequorumError(f"{path}:{number}: not a router memory entry ({error}); "
                                      "rebuild it with `codequorum router build`") from error
        return cls(entries)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            for entry in self.entries:
                handle.write(json.dumps(asdict(entry)) + "\n")
        partial.replace(path)


def build_memory(entries: Sequence[Entry], embedder: Embedder) -> RouterMemory:
    """Embed every entry's text (in batches) and return the memory."""
    vectors = embedder.embed([e.text for e in entries]) if entries else np.zeros((0, 0), np.float32)
    for entry, vector in zip(entries, vectors, strict=True):
        entry.embedding = [round(float(x), 6) for x in vector]
    return RouterMemory(entries)


@dataclass(frozen=True)
class Outcome:
    """One observation: on the request `text`, `member` was right or wrong."""

    text: str
    member: str
    right: float
    tokens: int | None = None


def entries_from_outcomes(outcomes: Iterable[Outcome], sources: dict[str, str] | None = None,
                          default_source: str = "feedback") -> list[Entry]:
    """Group observations by request text: per member, the share right and the mean tokens."""
    right: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    tokens: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for outcome in outcomes:
        right[outcome.text][outcome.member].append(outcome.right)
        if outcome.tokens:
            tokens[outcome.text][outcome.member].append(outcome.tokens)
    return [
        Entry(
            text=text,
            source=(sources or {}).get(text, default_source),
            outcomes={m: sum(v) / len(v) for m, v in members.items()},
            tokens={m: sum(v) / len(v) for m, v in tokens[text].items()},
        )
        for text, members in right.items()
    ]


def outcomes_from_bench(out_dir: Path, problems: dict[str, Request]) -> tuple[list[Outcome], dict[str, str]]:
    """Every candidate record of a bench `--out` folder whose problem is known, and each text's
    problem id. A record that failed to generate counts as wrong."""
    path = out_dir / "candidates.jsonl"
    if not path.is_file():
        raise CodequorumError(f"{out_dir} holds no candidates.jsonl: point --from at a "
                              "`codequorum bench ... --out` folder")
    outcomes, sources, unknown = [], {}, set()
    for record in CandidateStore(path).records():
        request = problems.get(record.problem)
        if request is None:
            unknown.add(record.problem)
            continue
        text = request_text(request)
        sources[text] = f"bench:{record.problem}"
        outcomes.append(Outcome(text, record.member, 1.0 if record.passed else 0.0, record.tokens or None))
    if unknown and not outcomes:
        sample = ", ".join(sorted(unknown)[:3])
        raise CodequorumError(f"{out_dir}: the records' problems ({sample}, …) are not among the problems "
                              "given: pass the suite's JSONL with --problems")
    return outcomes, sources


def outcomes_from_feedback(location: str | Path | StoreLocation) -> list[Outcome]:
    """Accepted suggestions are right, dismissed ones wrong, one accepted in part right by the
    share of it taken (`_counted`); a missing SQLite file has none."""
    store = open_store(location)
    try:
        records = list(store.records(events=("accepted", "accepted_partial", "dismissed")))
    finally:
        store.close()
    return [Outcome(r.prefix_tail, r.member, r.share_taken() or 0.0) for r in _counted(records)
            if r.prefix_tail.strip()]


def _counted(records: Sequence[FeedbackRecord]) -> list[FeedbackRecord]:
    """The events that count: a suggestion's partial accepts grow as the user takes more, so
    only the largest counts, and none when the suggestion was accepted whole in the end (or its
    text was not kept, so the share is unknown)."""
    whole = {r.suggestion_id for r in records if r.event == "accepted"}
    largest: dict[str, FeedbackRecord] = {}
    for r in records:
        if r.event != "accepted_partial" or r.suggestion_id in whole or r.share_taken() is None:
            continue
        best = largest.get(r.suggestion_id)
        if best is None or (r.accepted_chars or 0) > (best.accepted_chars or 0):
            largest[r.suggestion_id] = r
    return [r for r in records if r.event != "accepted_partial"] + list(largest.values())
