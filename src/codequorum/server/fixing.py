"""`codequorum.fix` over LSP: the CLI's fix operation on a saved document, as a workspace edit.

The fix runs on the file on disk (the test command reads files, not the editor's buffer), so a
document with unsaved changes is refused. The edit replaces the document's text and is
versioned: the editor rejects it if the user typed while the models were working.

Only a saved file inside the client's workspace folders is fixed (server/workspace_files.py),
in a project that does not reach above the folder. A client's own test command is a command
of its choice run on the server: accepted only where `[server] client_test_command` allows it
(by default from the stdio client, the editor that started the server, and no network client).

A fix the stdio client applied goes to the verified-answer log that `codequorum distill` trains
on, as the CLI's does; a network client's never does: a team server's training data is not a
client's to write.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument

from codequorum.fix.project import project_root_of
from codequorum.fix.report import FixOutcome, FixReport
from codequorum.fix.service import FixJob, run_fix
from codequorum.server.documents import open_document, position_of
from codequorum.server.extensions import FIX_COMMAND, FixArgs
from codequorum.server.features.errors import ArgumentsError
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.workspace_files import workspace_file
from codequorum.stores.verified import keep_verified

log = logging.getLogger(__name__)


def fix_job(ls: CodequorumServer, document: TextDocument, args: FixArgs) -> FixJob:
    target = workspace_file(ls.workspace, args.uri, stdio=ls.connection is None)
    path = target.path
    try:
        saved = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ArgumentsError(f"cannot read {path}: {error}") from error
    if saved != document.source:
        raise ArgumentsError(f"{path.name} has unsaved changes: save it, then run {FIX_COMMAND} again")
    server = ls.session.settings.server
    project = project_root_of(path)
    if not project.is_relative_to(target.folder):
        project = target.folder  # the project's markers are above the workspace folder
    return FixJob(target=path, command=chosen_test_command(ls, args), project=project,
                  members=tuple(server.fix_members or ()), strategy=server.generate_strategy,
                  max_tokens=server.generate_max_tokens)


def chosen_test_command(ls: CodequorumServer, args: FixArgs) -> str:
    """The client's command where the server allows it, else the configured one."""
    server = ls.session.settings.server
    if args.test is None or args.test == server.fix_test_command:
        return server.fix_test_command
    stdio = ls.connection is None
    policy = server.client_test_command
    if policy == "always" or (policy == "stdio" and stdio):
        return args.test
    where = "from any client" if policy == "never" else "from a network client"
    raise ArgumentsError(
        f"{FIX_COMMAND}: this server does not run a client's test command {where} "
        f"([server] client_test_command = {policy!r}); leave out `test` to run the server's "
        f"fix_test_command ({server.fix_test_command!r})")


@dataclass(frozen=True)
class FixedDocument:
    report: FixReport
    uri: str
    version: int | None  # of the document the fix was made for
    edit: types.TextEdit | None  # writes the best fix, when one makes the tests pass


async def fix_document(ls: CodequorumServer, raw: Any) -> FixedDocument:
    args = FixArgs.model_validate(raw)
    document = open_document(ls.workspace, args.uri)
    text, version = document.source, document.version
    report = await run_fix(fix_job(ls, document, args), ls.session.engine)
    best = report.best
    if report.outcome is not FixOutcome.FIXED or best is None or best.fixed_source is None:
        return FixedDocument(report, args.uri, version, None)
    end = await asyncio.to_thread(position_of, document, text, len(text))  # scales with the file
    whole = types.Range(types.Position(0, 0), end)
    return FixedDocument(report, args.uri, version, types.TextEdit(whole, best.fixed_source))


async def keep_applied_fix(ls: CodequorumServer, report: FixReport) -> None:
    """The fix the user's own editor applied, kept for distill ([distill] keep_verified)."""
    if report.verified is None or ls.connection is not None:
        return
    note = await asyncio.to_thread(keep_verified, ls.session.settings.distill, report.verified)
    if note:
        log.warning("%s", note)


def summary(report: FixReport) -> dict[str, Any]:
    best = report.best
    return {"outcome": report.outcome.value, "message": report.message,
            "member": best.member if best and best.passed else None,
            "diff": best.diff if best else "",
            "attempts": [{"member": a.member, "passed": a.passed, "lines_changed": a.lines_changed}
                         for a in report.attempts]}
