"""The harder fix suite (benchmarks/fix_suite) is sound: in the real sandbox every case fails as
given and passes with its reference fix, and `fix` locates every function that fix changes
(the benchmark checks the first two itself, with `check_harder_suite`, before any model runs)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path, PurePosixPath
from types import ModuleType

import pytest

from codequorum.fix.environment import find_python_environment, trees_of, visible_in_sandbox
from codequorum.fix.project import SandboxedProject, Verdict, sandbox_limits
from codequorum.fix.related import locate_site
from codequorum.plugins.languages.python import PythonLanguage
from codequorum.sandbox import DEFAULT_WORK_PATH, bubblewrap_available
from tests.dirs import searchable_dir

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
needs_bwrap = pytest.mark.skipif(not bubblewrap_available(), reason="needs a working bubblewrap")


@pytest.fixture
def fix_repair(monkeypatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # its own imports (_provenance) come from there
    spec = importlib.util.spec_from_file_location("fix_repair", BENCHMARKS / "fix_repair.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fix_repair", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_suite_has_each_kind_of_harder_bug(fix_repair):
    cases = fix_repair.harder_cases()
    kinds = {case.kind for case, _ in cases}
    assert kinds == {"two-bugs", "helper", "two-functions"}
    assert len(cases) >= 9 and all(fixed for _, fixed in cases)
    for case, fixed in cases:
        assert set(fixed) <= set(case.files), case.problem  # a fix changes files the project has
        assert any(name.rsplit("/", 1)[-1].startswith("test_") for name in case.files), case.problem


def _changed_functions(before: str, after: str, python: PythonLanguage) -> set[str]:
    def bodies(source: str) -> dict[str, str]:
        lines = source.split("\n")
        return {d.name: "\n".join(lines[d.start - 1:d.end]) for d in python.definitions(source)}
    old, new = bodies(before), bodies(after)
    return {name for name in old if old[name] != new.get(name)}


@needs_bwrap
async def test_each_case_fails_fix_locates_what_its_reference_fix_changes_and_that_fix_passes(fix_repair):
    python = PythonLanguage()
    with searchable_dir("cq-fix-suite-") as base:
        environment = find_python_environment(base)
        with visible_in_sandbox(trees_of(environment)) as mounts:
            for case, fixed in fix_repair.harder_cases():
                project = base / case.problem
                for name, text in case.files.items():
                    (project / name).parent.mkdir(parents=True, exist_ok=True)
                    (project / name).write_text(text)
                runner = SandboxedProject(project, fix_repair.COMMAND, environment, mounts,
                                          sandbox_limits(30.0, 1024, False))
                run = await runner.run()
                assert run.verdict is Verdict.FAILED, case.problem
                site = locate_site(run.output, project, DEFAULT_WORK_PATH, python)
                assert site is not None, case.problem
                located = {(str(loc.path), loc.definition.name) for loc in site.functions}
                needed = {(name, function) for name, text in fixed.items()
                          for function in _changed_functions(case.files[name], text, python)}
                assert needed <= located, (case.problem, located)
                fixed_run = await runner.run({PurePosixPath(name): text.encode() for name, text in fixed.items()})
                assert fixed_run.verdict is Verdict.PASSED, (case.problem, fixed_run.output[-1500:])
                shutil.rmtree(project)
