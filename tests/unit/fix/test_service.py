"""The whole fix operation with scripted members and the real bubblewrap sandbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.core.engine import Engine
from codequorum.fix.report import FixOutcome
from codequorum.fix.service import FixJob, resolve_target, run_fix
from codequorum.sandbox import bubblewrap_available
from codequorum.vocabulary.errors import CodequorumError
from tests.dirs import searchable_dir
from tests.unit.doubles import scripted_registry, scripted_settings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "fix_projects" / "buggy_calc"
GOOD = "```python\ndef add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    return a + b\n```"
WRONG = "```python\ndef add(a, b):\n    return a * b\n```"
UNRELATED = "```python\ndef subtract(a, b):\n    return a - b\n```"
COMMAND = "python -m pytest -q --tb=short -p no:cacheprovider"

needs_bwrap = pytest.mark.skipif(not bubblewrap_available(), reason="needs a working bubblewrap")


@pytest.fixture
def project() -> Iterator[Path]:
    with searchable_dir("cq-fix-test-") as base:
        shutil.copytree(FIXTURE, base / "calc")
        yield base / "calc"


def _engine(**replies: str) -> Engine:
    members = {name: {"options": {"replies": [text]}, "quality": round(0.9 - 0.1 * i, 2)}
               for i, (name, text) in enumerate(replies.items())}
    return Engine(scripted_settings(members), scripted_registry())


async def _fix(engine: Engine, **fields) -> object:
    try:
        return await run_fix(FixJob(**fields), engine)
    finally:
        await engine.aclose()


@needs_bwrap
async def test_the_passing_fix_wins_and_nothing_is_written_without_apply(project: Path):
    before = (project / "calc" / "ops.py").read_text()
    report = await _fix(_engine(wrong=WRONG, good=GOOD, unrelated=UNRELATED),
                        target=project, command=COMMAND, strategy="best-of")
    assert report.outcome is FixOutcome.FIXED and report.exit_code == 0
    assert str(report.file) == "calc/ops.py" and report.function == "add"
    # test_double fails too, through add: both are shown, the answer may change either
    assert [(str(path), name) for path, name in report.functions] == [("calc/ops.py", "add"),
                                                                      ("calc/ops.py", "double")]
    assert report.attempts[0].member == "good"
    by_member = {a.member: a for a in report.attempts}
    assert by_member["good"].passed and not by_member["wrong"].passed and by_member["wrong"].tried
    assert by_member["unrelated"].problem == "the answer has none of the functions add, double"
    assert by_member["good"].lines_changed == 2
    assert "+    return a + b" in report.best.diff
    assert (project / "calc" / "ops.py").read_text() == before
    assert not (project / ".codequorum").exists()


@needs_bwrap
async def test_apply_writes_the_fix_and_keeps_a_backup(project: Path):
    target = project / "calc" / "ops.py"
    before = target.read_text()
    report = await _fix(_engine(good=GOOD), target=target, command=COMMAND, apply=True)
    assert report.outcome is FixOutcome.FIXED and report.applied
    assert "return a + b" in target.read_text()
    assert report.backup is not None and report.backup.read_text() == before
    again = await _fix(_engine(good=GOOD), target=target, command=COMMAND)
    assert again.outcome is FixOutcome.ALREADY_PASSING and again.trace is None


@needs_bwrap
async def test_no_passing_candidate_applies_nothing(project: Path):
    target = project / "calc" / "ops.py"
    before = target.read_text()
    report = await _fix(_engine(wrong=WRONG), target=target, command=COMMAND, apply=True)
    assert report.outcome is FixOutcome.NOT_FIXED and report.exit_code == 1
    assert report.best is not None and "a * b" in report.best.diff
    assert target.read_text() == before and not report.applied


@needs_bwrap
async def test_a_command_that_cannot_run_asks_no_member(project: Path):
    report = await _fix(_engine(good=GOOD), target=project, command="no-such-test-runner")
    assert report.outcome is FixOutcome.CANNOT_RUN and report.exit_code == 3
    assert "not found" in report.baseline.output and report.trace is None


@needs_bwrap
async def test_a_failure_naming_no_function(project: Path):
    report = await _fix(_engine(good=GOOD), target=project, command="echo broken; exit 1")
    assert report.outcome is FixOutcome.NOT_LOCATED and report.exit_code == 4


def test_target_errors_are_user_errors(tmp_path: Path):
    with pytest.raises(CodequorumError, match="does not exist"):
        resolve_target(FixJob(target=tmp_path / "missing.py", command="true"))
    (tmp_path / "a.py").write_text("")
    with pytest.raises(CodequorumError, match="not inside the project"):
        resolve_target(FixJob(target=tmp_path / "a.py", command="true", project=tmp_path / "other"))
