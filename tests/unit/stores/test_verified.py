"""The verified-answer log: bounded, private, never through a link, tolerant of damage."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from codequorum.config import DistillConfig
from codequorum.stores import verified as module
from codequorum.stores.verified import VerifiedAnswer, VerifiedLog, keep_verified
from codequorum.vocabulary.errors import CodequorumError

DAY = 86400.0


def _answer(instruction: str = "add two numbers", at: float = 1000 * DAY, answer: str = "def add(a, b):\n    return a + b\n") -> VerifiedAnswer:
    return VerifiedAnswer(kind="generate", language="python", instruction=instruction, answer=answer,
                          member="qwen-large", verified_by="the visible tests", tests="assert add(1, 2) == 3\n", at=at)


def test_entries_come_back_as_kept_and_the_file_is_the_users_alone(tmp_path: Path):
    log = VerifiedLog(tmp_path / "data" / "verified.jsonl", clock=lambda: 1000 * DAY)
    assert list(log.entries()) == []
    fix = VerifiedAnswer(kind="fix", language="python", instruction="E assert 2 == 3", answer="def f(): ...\n",
                         member="qwen-small", verified_by="pytest -q", code="def f(): pass\n",
                         functions=("f", "g"), at=1000 * DAY)
    assert log.append(_answer()) and log.append(fix)
    assert list(log.entries()) == [_answer(), fix]
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700


def test_entries_past_the_retention_are_neither_read_nor_kept(tmp_path: Path):
    now = [1000 * DAY]
    log = VerifiedLog(tmp_path / "verified.jsonl", retention_days=30, clock=lambda: now[0])
    log.append(_answer("old", at=now[0]))
    now[0] += 31 * DAY
    assert list(log.entries()) == []
    log.append(_answer("new", at=now[0]))
    lines = log.path.read_text().splitlines()
    assert [json.loads(line)["instruction"] for line in lines] == ["new"]  # the old one is gone from the file
    assert [e.instruction for e in VerifiedLog(log.path, retention_days=None).entries()] == ["new"]


def test_an_oversized_answer_is_refused_and_the_log_keeps_its_newest_within_the_bound(tmp_path: Path, monkeypatch):
    log = VerifiedLog(tmp_path / "verified.jsonl", retention_days=None)
    assert not log.append(_answer(answer="x" * (module.MAX_ENTRY_BYTES + 1)))
    assert not log.path.exists()
    one = len(json.dumps(module.asdict(_answer("0"))).encode()) + 1
    monkeypatch.setattr(module, "MAX_LOG_BYTES", 3 * one)
    for n in range(5):
        log.append(_answer(str(n)))
    kept = [e.instruction for e in log.entries()]
    assert kept[-1] == "4" and len(kept) <= 3 and log.path.stat().st_size <= 3 * one


def test_damaged_lines_are_skipped(tmp_path: Path):
    log = VerifiedLog(tmp_path / "verified.jsonl", retention_days=None)
    log.append(_answer("first"))
    with log.path.open("a") as handle:
        handle.write('{"cut short\n[1, 2]\n{"kind": "evil", "language": "python"}\n\xff\n')
    wrong = [{**module.asdict(_answer("wrong")), **change} for change in
             ({"at": "yesterday"}, {"at": True}, {"tests": 3}, {"functions": [1]}, {"answer": None}, {"extra": 1})]
    with log.path.open("a") as handle:
        handle.writelines(json.dumps(entry) + "\n" for entry in wrong)
    log.append(_answer("second"))
    assert [e.instruction for e in log.entries()] == ["first", "second"]


def test_a_symbolic_link_is_refused(tmp_path: Path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("someone else's file\n")
    (tmp_path / "verified.jsonl").symlink_to(target)
    log = VerifiedLog(tmp_path / "verified.jsonl", retention_days=None)
    with pytest.raises(CodequorumError, match="symbolic link"):
        log.append(_answer())
    assert target.read_text() == "someone else's file\n"


def test_keeping_is_switched_off_and_a_failure_is_a_note_not_an_error(tmp_path: Path):
    path = tmp_path / "verified.jsonl"
    assert keep_verified(DistillConfig(keep_verified=False, verified_log=path), _answer()) is None
    assert not path.exists()
    assert keep_verified(DistillConfig(verified_log=path), _answer(at=module.time.time())) is None
    assert len(path.read_text().splitlines()) == 1
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    note = keep_verified(DistillConfig(verified_log=blocked / "verified.jsonl"), _answer())
    assert note is not None and note.startswith("note: the verified answer was not kept")
