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
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

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
    # test_double fails too, but through add (double calls it): a knock-on effect, not shown
    assert [(str(path), name) for path, name in report.functions] == [("calc/ops.py", "add")]
    assert report.attempts[0].member == "good"
    by_member = {a.member: a for a in report.attempts}
    assert by_member["good"].passed and not by_member["wrong"].passed and by_member["wrong"].tried
    assert by_member["unrelated"].problem == "the answer has no function add"
    assert by_member["good"].lines_changed == 2
    assert "+    return a + b" in report.best.diff
    kept = report.verified  # what distill learns: the request as the members saw it, the passing code
    assert (kept.kind, kept.member, kept.verified_by, kept.functions) == ("fix", "good", COMMAND, ())
    assert "def add(a, b)" in kept.code and "return a + b" in kept.answer
    assert kept.instruction.strip() and kept.instruction in report.baseline.output
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
    assert target.read_text() == before and not report.applied and report.verified is None


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


INVOICE = '''"""Invoices."""


def _cents(price):
    return int(price * 10)


def total(prices):
    """The sum of `prices`, in whole cents."""
    return sum(_cents(price) for price in prices)
'''
INVOICE_TESTS = "from shop.invoice import total\n\n\ndef test_total():\n    assert total([1.25, 2.5]) == 375\n"


def _shop(base: Path, files: dict[str, str]) -> Path:
    project = base / "shop_project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    (project / "pyproject.toml").write_text("")
    return project


@needs_bwrap
async def test_a_bug_in_a_helper_of_the_tested_function_is_fixed_there():
    # the answer: the functions in another order, chatter around them, a new helper it calls
    answer = ("```python\nimport math\n\ndef total(prices):\n    \"\"\"The sum of `prices`, in whole cents.\"\"\"\n"
              "    return sum(_cents(price) for price in prices)\n\n"
              "def _cents(price):\n    return _whole(price * 100)\n\n"
              "def _whole(amount):\n    return int(round(amount))\n\nprint(total([1.0]))\n```")
    with searchable_dir("cq-fix-helper-") as base:
        project = _shop(base, {"shop/__init__.py": "", "shop/invoice.py": INVOICE,
                               "tests/test_invoice.py": INVOICE_TESTS})
        report = await _fix(_engine(good=answer), target=project / "shop" / "invoice.py",
                            command=COMMAND, apply=True)
        assert report.outcome is FixOutcome.FIXED, report.message
        assert report.function == "total" and [name for _, name in report.functions] == ["total", "_cents"]
        assert "fix of _cents in shop/invoice.py" in report.message
        assert (project / "shop" / "invoice.py").read_text() == (
            '"""Invoices."""\n\n\ndef _whole(amount):\n    return int(round(amount))\n\n\n'
            "def _cents(price):\n    return _whole(price * 100)\n\n\n"
            'def total(prices):\n    """The sum of `prices`, in whole cents."""\n'
            "    return sum(_cents(price) for price in prices)\n")
        assert len(report.backups) == 1 and report.backups[0].read_text() == INVOICE


STATS = ('"""Averages."""\n\n\ndef mean(values):\n    return sum(values) / (len(values) - 1)\n\n\n'
         "def spread(values):\n    return max(values) - max(values)\n")
STATS_TESTS = ("from stats import mean, spread\n\n\ndef test_mean():\n    assert mean([2, 4, 6]) == 4\n\n\n"
               "def test_spread():\n    assert spread([3, 9, 1]) == 8\n")


@needs_bwrap
async def test_two_bugs_in_two_functions_the_repair_sees_both_and_finishes_the_fix():
    first = "```python\ndef mean(values):\n    return sum(values) / len(values)\n```"  # half the fix
    repair = "```python\ndef spread(values):\n    return max(values) - min(values)\n```"  # the other half
    members = {"dear": {"quality": 0.8, "options": {"replies": [first, repair]}}}
    ScriptedBackend.prompts.clear()
    with searchable_dir("cq-fix-two-") as base:
        project = _shop(base, {"stats.py": STATS, "test_stats.py": STATS_TESTS})
        report = await _fix(Engine(scripted_settings(members), scripted_registry()), target=project,
                            command=COMMAND, strategy="best-of", repair=1)
        assert report.outcome is FixOutcome.FIXED, report.message
        assert report.best.member == "dear (repair 1)"
        assert "+    return sum(values) / len(values)" in report.best.diff  # the attempt's half is kept
        assert "+    return max(values) - min(values)" in report.best.diff
        fix_prompt, repair_prompt = (p.messages[-1].content for p in ScriptedBackend.prompts)
        assert "(mean, spread)" in fix_prompt and "test_spread" in fix_prompt and "test_mean" in fix_prompt
        # the repair shows both functions as the attempt left them, and what pytest printed with it
        assert "return sum(values) / len(values)" in repair_prompt
        assert "return max(values) - max(values)" in repair_prompt and "test_spread" in repair_prompt
        assert "Fix the functions mean, spread" in repair_prompt


@needs_bwrap
async def test_a_fix_spanning_two_files_applies_both():
    files = {"app/__init__.py": "", "app/util.py": "def norm(text):\n    return text.upper()\n",
             "app/main.py": "from app.util import norm\n\n\ndef greet(name):\n    return 'hi ' + norm(name) + '!'\n",
             "tests/test_main.py": "from app.main import greet\n\n\ndef test_greet():\n"
                                   "    assert greet(' Ann ') == 'hi ann'\n"}
    answer = ("```python\ndef greet(name):\n    return 'hi ' + norm(name)\n\n\n"
              "def norm(text):\n    return text.strip().lower()\n```")
    with searchable_dir("cq-fix-files-") as base:
        project = _shop(base, files)
        report = await _fix(_engine(good=answer), target=project, command=COMMAND, apply=True)
        assert report.outcome is FixOutcome.FIXED, report.message
        assert [(str(path), name) for path, name in report.functions] == [("app/main.py", "greet"),
                                                                          ("app/util.py", "norm")]
        assert (project / "app" / "util.py").read_text() == "def norm(text):\n    return text.strip().lower()\n"
        assert "return 'hi ' + norm(name)\n" in (project / "app" / "main.py").read_text()
        assert len(report.backups) == 2 and report.best.fixed_source is None  # two files: no one document
        assert "--- a/app/main.py" in report.best.diff and "--- a/app/util.py" in report.best.diff


@needs_bwrap
async def test_when_no_answer_changes_the_code_the_repair_starts_from_the_code_as_it_is(project: Path):
    unchanged = "```python\ndef add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    return a - b\n```"
    members = {"dear": {"quality": 0.8, "options": {"replies": [unchanged, GOOD]}}}
    ScriptedBackend.prompts.clear()
    report = await _fix(Engine(scripted_settings(members), scripted_registry()), target=project,
                        command=COMMAND, strategy="best-of", repair=2)
    assert report.outcome is FixOutcome.FIXED, report.message
    assert [a.member for a in report.attempts] == ["dear (repair 1)", "dear"]
    assert report.attempts[1].problem == "the answer does not change the code"
    assert any("repairs the code as it is (no answer could be tried)" in e for e in report.trace.events)
    repair_prompt = ScriptedBackend.prompts[-1].messages[-1].content
    assert "return a - b" in repair_prompt and "assert -1 == 5" in repair_prompt  # the first run's output


@needs_bwrap
async def test_a_repair_that_cannot_be_tried_ends_the_rounds(project: Path):
    unchanged = "```python\ndef add(a, b):\n    \"\"\"Return the sum of a and b.\"\"\"\n    return a - b\n```"
    members = {"dear": {"quality": 0.8, "options": {"replies": [unchanged, unchanged, GOOD]}}}
    report = await _fix(Engine(scripted_settings(members), scripted_registry()), target=project,
                        command=COMMAND, strategy="best-of", repair=3)
    assert report.outcome is FixOutcome.NOT_FIXED
    assert [c.prompt_kind for c in report.trace.calls] == ["chat", "repair"]  # not a third, identical call
    assert "repair round 1: the repair could not be tried" in report.trace.events
