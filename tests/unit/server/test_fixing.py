"""Which applied fixes the server keeps for distill: the stdio client's, never a network client's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from codequorum.config import DistillConfig
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.server.fixing import keep_applied_fix
from codequorum.stores.verified import VerifiedAnswer, VerifiedLog

FIX = VerifiedAnswer(kind="fix", language="python", instruction="assert add(1, 2) == 3",
                     answer="def add(a, b):\n    return a + b\n", member="m", verified_by="pytest -q",
                     code="def add(a, b):\n    return a - b\n")


def server(log: Path, connection: object | None, keep: bool = True) -> SimpleNamespace:
    distill = DistillConfig(keep_verified=keep, verified_log=log)
    return SimpleNamespace(connection=connection,
                           session=SimpleNamespace(settings=SimpleNamespace(distill=distill)))


def report(verified: VerifiedAnswer | None) -> FixReport:
    return FixReport(outcome=FixOutcome.FIXED, message="fixed", project=Path("."), command="pytest -q",
                     verified=verified)


@pytest.mark.parametrize(("connection", "keep", "verified", "kept"), [
    (None, True, FIX, 1),            # the editor that started the server
    (object(), True, FIX, 0),        # a network client: a team server's data is not its to write
    (None, False, FIX, 0),           # [distill] keep_verified = false
    (None, True, None, 0),           # nothing passed
])
def test_what_is_kept(tmp_path: Path, connection, keep, verified, kept):
    log = tmp_path / "verified.jsonl"
    asyncio.run(keep_applied_fix(server(log, connection, keep), report(verified)))  # type: ignore[arg-type]
    assert len(list(VerifiedLog(log).entries())) == kept
