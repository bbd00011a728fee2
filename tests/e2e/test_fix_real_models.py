"""`codequorum fix` through the real CLI, the real bubblewrap sandbox and a real model
(the cheapest member that repairs each fixture: Qwen2.5-Coder-0.5B a one-character bug, 1.5B a
bug in a helper that the failing test reaches only through the function it calls)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dirs import searchable_dir
from tests.e2e.conftest import ROOT, run_cli

pytestmark = pytest.mark.e2e

FIXTURES = ROOT / "tests" / "fixtures" / "fix_projects"
# -p no:asyncio: codequorum's own venv runs the fixture, and its pytest-asyncio warning would
# only add noise to the prompt.
PYTEST = "python -m pytest -q --tb=short -p no:cacheprovider -p no:asyncio"
CONFIG = """
[engine]
deadline_s = 300
"""


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A folder the sandbox user can reach, with a config (pytest's tmp_path is 0700)."""
    with searchable_dir("cq-fix-e2e-") as base:
        (base / "codequorum.toml").write_text(CONFIG)
        yield base


def _project(workspace: Path, name: str) -> Path:
    return Path(shutil.copytree(FIXTURES / name, workspace / name))


def _fix(workspace: Path, *args: str) -> tuple[int, dict]:
    done = run_cli("fix", *args, "--config", str(workspace / "codequorum.toml"), "--json", timeout=600)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_fix_shows_a_diff_then_apply_writes_it_with_a_backup(installed_models, workspace):
    project = _project(workspace, "buggy_calc")
    ops = project / "calc" / "ops.py"
    original = ops.read_text()

    code, report = _fix(workspace, str(project), "--test", PYTEST, "--member", "qwen-small",
                        "--max-tokens", "96")
    assert code == 0, report
    assert report["outcome"] == "fixed" and report["file"] == "calc/ops.py" and report["function"] == "add"
    assert "+    return a + b" in report["diff"]
    [attempt] = report["attempts"]
    assert attempt["member"] == "qwen-small" and attempt["passed"] and attempt["lines_changed"] >= 2
    assert ops.read_text() == original and not (project / ".codequorum").exists()

    code, report = _fix(workspace, str(ops), "--test", PYTEST, "--member", "qwen-small",
                        "--max-tokens", "96", "--apply")
    assert code == 0 and report["applied"], report
    backup = Path(report["backup"])
    assert backup.read_text() == original and backup.is_relative_to(project / ".codequorum" / "backup")
    assert "return a + b" in ops.read_text()

    # the tests now pass in the sandbox: fix says so and asks no model
    code, report = _fix(workspace, str(project), "--test", PYTEST)
    assert code == 0 and report["outcome"] == "already-passing" and report["attempts"] == []


def test_a_test_command_that_cannot_run(workspace):
    project = _project(workspace, "buggy_calc")
    done = run_cli("fix", str(project), "--test", "no-such-test-runner -q",
                   "--config", str(workspace / "codequorum.toml"))
    assert done.returncode == 3
    assert "cannot-run" in done.stdout and "not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_member_is_a_user_error_before_anything_runs(workspace):
    project = _project(workspace, "plain_assert")
    done = run_cli("fix", str(project), "--test", "python check_stats.py", "--member", "nobody",
                   "--config", str(workspace / "codequorum.toml"))
    assert done.returncode == 2 and "unknown member(s) nobody" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_is_a_user_error(workspace):
    done = run_cli("fix", str(workspace / "missing.py"), "--test", "true")
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_a_bug_in_a_helper_the_failure_never_names_is_fixed_there(installed_models, workspace):
    """The failing test calls `total`; the bug is in its helper `with_tax`, which no failure
    output names: both are shown to the model, and its fix is applied and passes. Qwen2.5-Coder
    1.5B: the 0.5B answered with both functions unchanged (measured once, at load 6)."""
    project = _project(workspace, "helper_bug")
    prices = project / "shop" / "prices.py"
    original = prices.read_text()

    code, report = _fix(workspace, str(project), "--test", PYTEST, "--member", "qwen-large",
                        "--max-tokens", "160", "--apply")
    assert code == 0 and report["outcome"] == "fixed" and report["applied"], report
    assert report["function"] == "total"
    assert report["functions"] == [{"file": "shop/prices.py", "function": "total"},
                                   {"file": "shop/prices.py", "function": "with_tax"}]
    assert [Path(b) for b in report["backups"]] == [Path(report["backup"])]
    assert Path(report["backup"]).read_text() == original
    assert prices.read_text() != original
    code, report = _fix(workspace, str(project), "--test", PYTEST)
    assert code == 0 and report["outcome"] == "already-passing", report
