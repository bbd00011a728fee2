"""Where trusted examples come from: bench collections on disk, the feedback store and the
verified-answer log of `generate` and `fix`."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from codequorum.stores.open import open_store
from codequorum.stores.records import FeedbackRecord, accepted_completions
from codequorum.stores.verified import VerifiedAnswer, VerifiedLog
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.records import Record


def collection_records(path: Path) -> Iterator[Record]:
    """The candidates of a bench collection (`collection.jsonl`, or the shipped `.jsonl.gz`);
    a line cut short by an interruption is skipped, as `CandidateStore` skips it."""
    if not path.is_file():
        raise CodequorumError(f"no collection at {path}: give the collection.jsonl a "
                              "`codequorum bench` run wrote (or data/humaneval-greedy.jsonl.gz)")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            try:
                yield Record(**json.loads(line))
            except (ValueError, TypeError):
                continue


def accepted_feedback(location: str | Path) -> list[FeedbackRecord]:
    """The completions users accepted in full and never dismissed, prompt window and text kept."""
    store = open_store(location)
    try:
        return accepted_completions(store.records(("accepted", "accepted_partial", "dismissed")))
    finally:
        store.close()


def verified_answers(path: Path, retention_days: int | None) -> list[VerifiedAnswer]:
    """The answers `generate --tests-file` and `fix` kept after their tests passed, within the
    retention; none when the log does not exist yet."""
    return list(VerifiedLog(path, retention_days).entries())
