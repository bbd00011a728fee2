from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix import project as project_module
from codequorum.fix.project import (
    Verdict,
    copy_project,
    project_files,
    project_root_of,
    verdict_of,
)
from codequorum.sandbox import SandboxResult
from codequorum.vocabulary.errors import CodequorumError


def _result(exit_code: int | None, killed_by: str | None = None) -> SandboxResult:
    return SandboxResult(exit_code=exit_code, stdout="", stderr="", timed_out=killed_by == "timeout",
                         killed_by=killed_by, seconds=0.1, stdout_truncated=False,
                         stderr_truncated=False, sandboxed=True)


@pytest.mark.parametrize(("exit_code", "killed_by", "command", "verdict"), [
    (0, None, "make test", Verdict.PASSED),
    (1, None, "python -m pytest", Verdict.FAILED),
    (2, None, "python -m pytest", Verdict.FAILED),  # collection errors may be the bug itself
    (5, None, "python -m pytest", Verdict.CANNOT_RUN),  # no tests collected
    (5, None, "./run-checks", Verdict.FAILED),
    (127, None, "nope", Verdict.CANNOT_RUN),
    (None, "timeout", "python -m pytest", Verdict.CANNOT_RUN),
])
def test_verdicts(exit_code, killed_by, command, verdict):
    assert verdict_of(_result(exit_code, killed_by), command) is verdict


def _tree(root: Path) -> None:
    for name in ("pkg/a.py", ".git/HEAD", ".venv/pyvenv.cfg", "pkg/__pycache__/a.pyc",
                 "myenv/pyvenv.cfg", "tests/test_a.py", ".codequorum/backup/a.py.1"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")


def test_copies_leave_out_vcs_caches_venvs_and_backups(tmp_path: Path):
    _tree(tmp_path / "p")
    assert list(project_files(tmp_path / "p")) == [PurePosixPath("pkg/a.py"), PurePosixPath("tests/test_a.py")]
    copy_project(tmp_path / "p", tmp_path / "c", {PurePosixPath("pkg/a.py"): "fixed"})
    assert (tmp_path / "c" / "pkg" / "a.py").read_text() == "fixed"
    assert (tmp_path / "p" / "pkg" / "a.py").read_text() == "x"
    assert not (tmp_path / "c" / ".git").exists() and not (tmp_path / "c" / "myenv").exists()


def test_project_root_is_the_nearest_folder_with_a_marker(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    assert project_root_of(tmp_path / "pkg" / "sub" / "m.py") == tmp_path


def test_a_huge_project_is_refused(tmp_path: Path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.setattr(project_module, "MAX_FILES", 1)
    with pytest.raises(CodequorumError, match="too big"):
        project_module._check_size(tmp_path)
