"""The whole `fix` operation, independent of the CLI and the language server.

1. Run the test command on a copy of the project, in the sandbox: it must fail.
2. Locate the function the failure points at (the language plugin reads the output), and the
   functions around it that the fix may have to change too (`fix/related.py`).
3. Ask the members for the corrected functions (one FIX request through the engine).
4. Splice each answer's functions into its own copy (`fix/edit.py`) and run the command there.
5. Rank the attempts (`choose.ranked`), repair while none passes, and, when asked and the best
   one passes, apply it (every file it changes, or none).
"""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codequorum.core.engine import Engine
from codequorum.core.repair import Failure, ask_repair, repair_prompt, repair_rounds_of
from codequorum.fix.apply import FileFix, apply_fixes
from codequorum.fix.candidates import (
    AnsweredFunctions,
    answer_sources,
    fix_request,
    failure_tail,
    functions_in_answer,
    shown_code,
)
from codequorum.fix.choose import Attempt, ranked
from codequorum.fix.confined import confined
from codequorum.fix.diff import lines_changed, unified_diff
from codequorum.fix.edit import edited_files
from codequorum.fix.environment import (
    find_python_environment,
    trees_of,
    visible_in_sandbox,
)
from codequorum.fix.locate import Location
from codequorum.fix.project import (
    CommandRun,
    SandboxedProject,
    Verdict,
    project_root_of,
    sandbox_limits,
)
from codequorum.fix.related import FixSite, locate_site
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.plugins.languages.failures import FailureLocator
from codequorum.sandbox import DEFAULT_WORK_PATH
from codequorum.sandbox.argv import SEED_MESSAGE
from codequorum.stores.verified import VerifiedAnswer
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
    site = await asyncio.to_thread(  # parses the project's files: CPU-heavy
        locate_site, baseline.output, runner.root, DEFAULT_WORK_PATH, language, target)
    if site is None:
        where = f" in {target}" if target else ""
        return _with(report, FixOutcome.NOT_LOCATED,
                     f"the tests fail, but the failure output names no function{where} to fix")
    report.file, report.function = site.primary.path, site.primary.definition.name
    report.functions = [(location.path, location.definition.name) for location in site.functions]
    result = await _ask_members(job, engine, site, baseline, language_name)
    report.trace = result.trace
    attempts = await asyncio.to_thread(_attempts, result.candidates, site, language)  # diffs: CPU-heavy
    await _test_attempts(attempts, runner, site)
    report.attempts = ranked(attempts)
    await _repair_rounds(job, engine, runner, report, site, language, language_name)
    return _conclude(report, job, site, language_name)


async def _repair_rounds(job: FixJob, engine: Engine, runner: SandboxedProject, report: FixReport,
                         site: FixSite, language: FailureLocator, language_name: str) -> None:
    """The repair rung (`core/repair.py`): while no attempt passes, the strongest member sees the
    best tried attempt (all the site's functions, as that attempt has them; the code as it is
    when no answer could be tried) and what the test command printed with it, and proposes a
    repair. Like a first answer, a repair may come late: up to `[engine] hard_cap_s`."""
    rounds = job.repair if job.repair is not None else repair_rounds_of(engine.settings, job.strategy)
    member = engine.members(list(job.members) or engine.settings.generation_members())[0]
    for number in range(1, rounds + 1):
        best = next((a for a in report.attempts if a.tried), None)
        if (best is not None and best.passed) or report.trace is None or report.baseline is None:
            return
        # with no answer that could be tried (none changed the code, or none held the functions),
        # the code as it is is the attempt, and the first run's output what it prints
        output = best.run.output if best is not None and best.run is not None else report.baseline.output
        whose = f"{best.member}'s fix" if best is not None else "the code as it is (no answer could be tried)"
        report.trace.note(f"repair round {number}: {member.name} repairs {whose}, "
                          f"shown what `{job.command}` printed with it")
        engine_settings = engine.settings.engine  # the repair may finish late, as a first answer may
        request = fix_request(site, output, language_name, job.max_tokens, engine_settings.deadline_s,
                              engine_settings.hard_cap_s)
        code = _attempt_code(site, best) if best is not None else shown_code(site)
        prompt = repair_prompt(_repair_task(site, job.command), code, Failure(job.command, output), language_name)
        answers = await ask_repair(member, request, prompt, report.trace)
        repaired = await asyncio.to_thread(_attempts, answers, site, language, f" (repair {number})",
                                           best.answered if best is not None else None)
        await _test_attempts(repaired, runner, site)
        report.attempts = ranked(report.attempts + repaired)
        passed = any(a.passed for a in repaired)
        report.trace.note(f"repair round {number}: " + ("the repair makes the tests pass" if passed
                          else "the tests still fail" if any(a.tried for a in repaired)
                          else "the repair could not be tried" if repaired else f"{member.name} gave no answer"))
        if passed or not any(a.tried for a in repaired):  # the next round would ask the same
            return


def _repair_task(site: FixSite, command: str) -> str:
    files = ", ".join(str(path) for path in site.files)
    if len(site.functions) == 1:
        return f"Fix the function {site.primary.definition.name} in {files} so that `{command}` passes."
    return (f"Fix the functions {', '.join(site.names)} (in {files}) so that `{command}` passes; "
            "the bug may be in any of them, or in several.")


def _attempt_code(site: FixSite, attempt: Attempt) -> str:
    """The site's functions as `attempt` has them, its new helpers after them."""
    if attempt.answered is None:
        return attempt.answer
    helpers = [code.rstrip("\n") + "\n" for code in attempt.answered.helpers.values()]
    return "\n\n".join([shown_code(site, attempt.answered.functions).rstrip("\n") + "\n", *helpers])


async def _ask_members(job: FixJob, engine: Engine, site: FixSite, baseline: CommandRun,
                       language_name: str) -> Result:
    request = fix_request(site, baseline.output, language_name, job.max_tokens,
                          engine.settings.engine.deadline_s)
    strategy, options = job.strategy, dict[str, Any]()
    if len(job.members) == 1 and strategy in (None, "single"):
        strategy, options = "single", {"member": job.members[0]}
    members = list(job.members) or engine.settings.generation_members()
    return await engine.run(request, strategy=strategy, members=members, options=options)


def _attempts(candidates: list[Candidate], site: FixSite, language: FailureLocator,
              label: str = "", base: AnsweredFunctions | None = None) -> list[Attempt]:
    """Each candidate as an edit of the site's files; `base` fills in what a repair leaves out."""
    defined = frozenset(d.name for path in site.files for d in language.definitions(site.file(path).source))
    attempts = []
    for candidate in candidates:
        attempt = Attempt(candidate.member + label, candidate.text, candidate.score)
        sources = answer_sources(candidate.text, candidate.raw_text)
        answered = functions_in_answer(sources, site, language, defined)
        if answered.empty:
            attempt.problem = _no_function(site)
        else:
            _edit(attempt, site, answered.over(base) if base else answered, language)
        attempts.append(attempt)
    return attempts


def _edit(attempt: Attempt, site: FixSite, answered: AnsweredFunctions, language: FailureLocator) -> None:
    changed = {path: text for path, text in edited_files(site, answered, language).items()
               if text != site.file(path).source}
    problem = next((p for path, text in changed.items() if (p := _unwritable(site.file(path), text))), None)
    if not changed:
        attempt.problem = "the answer does not change the code"
    elif problem is not None:
        attempt.problem = problem
    else:
        attempt.fixed_files, attempt.answered = changed, answered
        attempt.diff = "".join(unified_diff(site.file(path).source, text, str(path))
                               for path, text in changed.items())
        attempt.lines_changed = sum(lines_changed(site.file(path).source, text) for path, text in changed.items())


def _no_function(site: FixSite) -> str:
    if len(site.functions) == 1:
        return f"the answer has no function {site.primary.definition.name}"
    return f"the answer has none of the functions {', '.join(site.names)}"


async def _test_attempts(attempts: list[Attempt], runner: SandboxedProject, site: FixSite) -> None:
    """Each distinct fix runs once, on its own copy; identical answers share the run."""
    runs: dict[tuple[tuple[PurePosixPath, str], ...], CommandRun] = {}
    for attempt in attempts:
        if not attempt.fixed_files:
            continue
        key = tuple(sorted(attempt.fixed_files.items()))
        if key not in runs:
            replacement = {path: site.file(path).encoded(text) for path, text in attempt.fixed_files.items()}
            runs[key] = await runner.run(replacement)
        attempt.run = runs[key]


def _conclude(report: FixReport, job: FixJob, site: FixSite, language_name: str) -> FixReport:
    best = report.best
    if best is None or not best.passed or not best.fixed_files:
        tried = sum(1 for a in report.attempts if a.tried)
        return _with(report, FixOutcome.NOT_FIXED,
                     f"no candidate makes `{job.command}` pass ({len(report.attempts)} candidates, "
                     f"{tried} tried); nothing was applied")
    report.verified = _verified_answer(report, site, best, language_name)
    message = f"{best.member}'s fix of {_what(site, best)} makes the tests pass"
    if job.apply:
        fixes = [FileFix(path, site.file(path).source, text, site.file(path).format)
                 for path, text in best.fixed_files.items()]
        try:
            report.backups = apply_fixes(report.project, fixes)
        except CodequorumError as error:
            return _with(report, FixOutcome.NOT_APPLIED, f"{message}, but it was not applied: {error}")
        report.backup, report.applied = report.backups[0], True
        kept = ", ".join(str(path) for path in report.backups)
        message += f"; applied (the original{'s are' if len(report.backups) > 1 else ' is'} kept at {kept})"
    else:
        message += "; run again with --apply to write it"
    return _with(report, FixOutcome.FIXED, message)


def _verified_answer(report: FixReport, site: FixSite, best: Attempt, language_name: str) -> VerifiedAnswer:
    """The request as the members saw it (`fix_request`) and the code that made the command pass."""
    assert report.baseline is not None
    return VerifiedAnswer(kind="fix", language=language_name,
                          instruction=failure_tail(report.baseline.output),
                          answer=_attempt_code(site, best), member=best.member,
                          verified_by=report.command, code=shown_code(site),
                          functions=site.names if len(site.functions) > 1 else ())


def _what(site: FixSite, attempt: Attempt) -> str:
    """The functions the attempt changes, and where: `add in calc/ops.py`."""
    changed = [loc for loc in site.functions if loc.path in attempt.fixed_files and attempt.answered
               and loc.definition.name in attempt.answered.functions
               and attempt.answered.functions[loc.definition.name] != textwrap.dedent(loc.code)]
    shown = changed or [site.primary]
    names = ", ".join(loc.definition.name for loc in shown)
    files = ", ".join(str(path) for path in dict.fromkeys(loc.path for loc in shown))
    return f"{names} in {files}"


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
