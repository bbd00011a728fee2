"""The whole `fix` operation, independent of the CLI and the language server.

1. Run the test command on a copy of the project, in the sandbox: it must fail.
2. Locate the function the failure points at (the language plugin reads the output).
3. Ask the members for the whole corrected function (one FIX request through the engine).
4. Splice each answer into its own copy and run the command there.
5. Rank the attempts (`choose.ranked`) and, when asked and the best one passes, apply it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codequorum.core.engine import Engine
from codequorum.core.repair import Failure, ask_repair, repair_prompt, repair_rounds_of
from codequorum.fix.apply import apply_fix
from codequorum.fix.candidates import fix_request, function_in_answer, splice
from codequorum.fix.choose import Attempt, ranked
from codequorum.fix.confined import confined
from codequorum.fix.diff import lines_changed, unified_diff
from codequorum.fix.environment import (
    find_python_environment,
    trees_of,
    visible_in_sandbox,
)
from codequorum.fix.locate import Location, locate
from codequorum.fix.project import (
    CommandRun,
    SandboxedProject,
    Verdict,
    project_root_of,
    sandbox_limits,
)
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.plugins.languages.failures import FailureLocator
from codequorum.sandbox import DEFAULT_WORK_PATH
from codequorum.sandbox.argv import SEED_MESSAGE
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.errors import CodequorumError
from codequorum.vocabulary.result import Result

MIN_MEMORY_MB = 1024  # a test runner and the project's imports need more than one snippet


@dataclass(frozen=True)
class FixJob:
    """What the user asked: fix `target` (a file, or a project directory) until `command` passes."""

    target: Path
    command: str
    apply: bool = False
    project: Path | None = None  # the project root; found from the file when None
    strategy: str | None = None
    members: tuple[str, ...] = ()
    max_tokens: int = 384
    timeout_s: float = 60.0
    python: Path | None = None  # the interpreter or venv for the command
    language: str | None = None
    cwd: Path | None = None  # where the user ran it (the CLI); the root without a marker file
    repair: int | None = None  # repair rounds; None = the strategy's `repair` option


async def run_fix(job: FixJob, engine: Engine) -> FixReport:
    started = time.monotonic()
    unknown = [name for name in job.members if name not in engine.settings.members]
    if unknown:
        known = ", ".join(engine.settings.members)
        raise CodequorumError(f"unknown member(s) {', '.join(unknown)} (configured: {known})")
    project, target = resolve_target(job)
    language_name, language = _language(job, engine, target)
    environment = find_python_environment(project, job.python)
    sandbox = engine.settings.sandbox
    limits = sandbox_limits(job.timeout_s, max(sandbox.memory_mb, MIN_MEMORY_MB), sandbox.allow_unsandboxed)
    with contextlib.ExitStack() as stack:  # linking and removing the trees walks them: off the loop
        mounts = await asyncio.to_thread(stack.enter_context, visible_in_sandbox(trees_of(environment)))
        try:
            runner = SandboxedProject(project, job.command, environment, mounts, limits)
            report = await _repair(job, engine, runner, language_name, language, target)
        finally:
            await asyncio.to_thread(stack.close)
    report.seconds = time.monotonic() - started
    return report


def resolve_target(job: FixJob) -> tuple[Path, PurePosixPath | None]:
    """(project root, the file to fix relative to it, or None to find it from the failure)."""
    target = job.target.absolute()
    if not target.exists():
        raise CodequorumError(f"{job.target} does not exist")
    if target.is_dir():
        if job.project is not None and job.project.absolute() != target:
            raise CodequorumError("give either a project directory or --project with a file, not both")
        return target, None
    project = job.project.absolute() if job.project else project_root_of(target, job.cwd)
    if project not in target.parents:
        raise CodequorumError(f"{job.target} is not inside the project {project}")
    real = confined(project, target)
    if real is None:
        raise CodequorumError(f"{job.target} is a symbolic link out of the project {project}: "
                              "give the file it points to, in its own project")
    return project, real


def _language(job: FixJob, engine: Engine, target: PurePosixPath | None) -> tuple[str, FailureLocator]:
    languages = engine.runtime.languages
    name = languages.name_for(job.language, PurePosixPath(str(target)) if target else None) or "python"
    language = languages.plugin(name)
    if language is None:
        raise CodequorumError(f"no language plugin for {job.language or target}")
    if not isinstance(language, FailureLocator):
        raise CodequorumError(f"`codequorum fix` does not support {name} yet (its language plugin "
                              "cannot read test failures); Python is supported")
    return name, language


async def _repair(job: FixJob, engine: Engine, runner: SandboxedProject, language_name: str,
                  language: FailureLocator, target: PurePosixPath | None) -> FixReport:
    baseline = await runner.run()
    report = FixReport(FixOutcome.NOT_FIXED, "", runner.root, job.command, baseline=baseline,
                       notes=list(runner.notes))
    if baseline.verdict is Verdict.PASSED:
        return _with(report, FixOutcome.ALREADY_PASSING, "the tests already pass: nothing to fix")
    if baseline.verdict is Verdict.CANNOT_RUN:
        return _with(report, FixOutcome.CANNOT_RUN, _cannot_run(baseline))
    location = await asyncio.to_thread(  # parses the project's files: CPU-heavy
        locate, baseline.output, runner.root, DEFAULT_WORK_PATH, language, target)
    if location is None:
        where = f" in {target}" if target else ""
        return _with(report, FixOutcome.NOT_LOCATED,
                     f"the tests fail, but the failure output names no function{where} to fix")
    report.file, report.function = location.path, location.definition.name
    result = await _ask_members(job, engine, location, baseline, language_name)
    report.trace = result.trace
    attempts = await asyncio.to_thread(_attempts, result.candidates, location, language)  # diffs: CPU-heavy
    await _test_attempts(attempts, runner, location)
    report.attempts = ranked(attempts)
    await _repair_rounds(job, engine, runner, report, location, language, language_name)
    return _conclude(report, job, location)


async def _repair_rounds(job: FixJob, engine: Engine, runner: SandboxedProject, report: FixReport,
                         location: Location, language: FailureLocator, language_name: str) -> None:
    """The repair rung (`core/repair.py`): while no attempt passes, the strongest member sees the
    best tried attempt and what the test command printed with it, and proposes a repair."""
    rounds = job.repair if job.repair is not None else repair_rounds_of(engine.settings, job.strategy)
    member = engine.members(list(job.members) or engine.settings.generation_members())[0]
    name = location.definition.name
    for number in range(1, rounds + 1):
        best = next((a for a in report.attempts if a.tried), None)
        if best is None or best.passed or best.run is None or report.trace is None:
            return
        code = function_in_answer(best.answer, name, language) or best.answer
        failure = Failure(job.command, best.run.output)
        task = f"Fix the function {name} in {location.path} so that `{job.command}` passes."
        report.trace.note(f"repair round {number}: {member.name} repairs {best.member}'s fix, "
                          f"shown what `{job.command}` printed with it")
        request = fix_request(location, best.run.output, language_name, job.max_tokens,
                              engine.settings.engine.deadline_s)
        prompt = repair_prompt(task, code, failure, language_name)
        answers = await ask_repair(member, request, prompt, report.trace)
        repaired = await asyncio.to_thread(_attempts, answers, location, language, f" (repair {number})")
        await _test_attempts(repaired, runner, location)
        report.attempts = ranked(report.attempts + repaired)
        passed = any(a.passed for a in repaired)
        report.trace.note(f"repair round {number}: " + ("the repair makes the tests pass" if passed
                          else "the tests still fail" if repaired else f"{member.name} gave no answer"))
        if passed or not repaired:
            return


async def _ask_members(job: FixJob, engine: Engine, location: Location, baseline: CommandRun,
                       language_name: str) -> Result:
    request = fix_request(location, baseline.output, language_name, job.max_tokens,
                          engine.settings.engine.deadline_s)
    strategy, options = job.strategy, dict[str, Any]()
    if len(job.members) == 1 and strategy in (None, "single"):
        strategy, options = "single", {"member": job.members[0]}
    members = list(job.members) or engine.settings.generation_members()
    return await engine.run(request, strategy=strategy, members=members, options=options)


def _attempts(candidates: list[Candidate], location: Location, language: FailureLocator,
              label: str = "") -> list[Attempt]:
    attempts = []
    for candidate in candidates:
        attempt = Attempt(candidate.member + label, candidate.text, candidate.score)
        function = function_in_answer(candidate.text, location.definition.name, language)
        if function is None:
            attempt.problem = f"the answer has no function {location.definition.name}"
        else:
            fixed = splice(location, function)
            problem = _unwritable(location, fixed)
            if fixed == location.source:
                attempt.problem = "the answer does not change the code"
            elif problem is not None:
                attempt.problem = problem
            else:
                attempt.fixed_source = fixed
                attempt.diff = unified_diff(location.source, fixed, str(location.path))
                attempt.lines_changed = lines_changed(location.source, fixed)
        attempts.append(attempt)
    return attempts


async def _test_attempts(attempts: list[Attempt], runner: SandboxedProject, location: Location) -> None:
    """Each distinct fixed file runs once, on its own copy; identical answers share the run."""
    runs: dict[str, CommandRun] = {}
    for attempt in attempts:
        if attempt.fixed_source is None:
            continue
        if attempt.fixed_source not in runs:
            replacement = {location.path: location.encoded(attempt.fixed_source)}
            runs[attempt.fixed_source] = await runner.run(replacement)
        attempt.run = runs[attempt.fixed_source]


def _conclude(report: FixReport, job: FixJob, location: Location) -> FixReport:
    best = report.best
    if best is None or not best.passed or best.fixed_source is None:
        tried = sum(1 for a in report.attempts if a.tried)
        return _with(report, FixOutcome.NOT_FIXED,
                     f"no candidate makes `{job.command}` pass ({len(report.attempts)} candidates, "
                     f"{tried} tried); nothing was applied")
    message = f"{best.member}'s fix of {location.definition.name} in {location.path} makes the tests pass"
    if job.apply:
        try:
            report.backup = apply_fix(report.project, location.path, location.source,
                                      best.fixed_source, location.format)
        except CodequorumError as error:
            return _with(report, FixOutcome.NOT_APPLIED, f"{message}, but it was not applied: {error}")
        report.applied = True
        message += f"; applied (the original is kept at {report.backup})"
    else:
        message += "; run again with --apply to write it"
    return _with(report, FixOutcome.FIXED, message)


def _unwritable(location: Location, fixed: str) -> str | None:
    try:
        location.encoded(fixed)
    except CodequorumError as error:
        return str(error)
    return None


def _cannot_run(run: CommandRun) -> str:
    seed = next((line for line in run.output.splitlines() if SEED_MESSAGE in line), None)
    if seed is not None:
        return (f"the project could not be copied into the sandbox ({seed.removeprefix('codequorum: ')}); "
                "make the project smaller or leave large files out with --project")
    if run.timed_out:
        return "the test command did not finish within its time limit (raise it with --timeout)"
    if run.killed_by:
        return f"the test command was killed by {run.killed_by}"
    if run.exit_code in (126, 127):
        return f"the test command could not be started (exit code {run.exit_code}): check CMD"
    return f"the test command ran no tests or was misused (exit code {run.exit_code})"


def _with(report: FixReport, outcome: FixOutcome, message: str) -> FixReport:
    report.outcome, report.message = outcome, message
    return report
