"""`codequorum.fix` over LSP: the CLI's fix operation on a saved document, as a workspace edit.

The fix runs on the file on disk (the test command reads files, not the editor's buffer), so a
document with unsaved changes is refused. The edit replaces the document's text and is
versioned: the editor rejects it if the user typed while the models were working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument

from codequorum.fix.report import FixOutcome, FixReport
from codequorum.fix.service import FixJob, run_fix
from codequorum.server.documents import document_path, open_document, position_of
from codequorum.server.extensions import FIX_COMMAND, FixArgs
from codequorum.server.features.errors import ArgumentsError
from codequorum.server.lsp_server import CodequorumServer


def fix_job(ls: CodequorumServer, document: TextDocument, args: FixArgs) -> FixJob:
    path = document_path(document)
    if path is None or not path.is_file():
        raise ArgumentsError(f"{FIX_COMMAND} needs a document saved as a file; {args.uri} is not one")
    try:
        saved = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ArgumentsError(f"cannot read {path}: {error}") from error
    if saved != document.source:
        raise ArgumentsError(f"{path.name} has unsaved changes: save it, then run {FIX_COMMAND} again")
    server = ls.session.settings.server
    return FixJob(target=path, command=args.test or server.fix_test_command,
                  members=tuple(server.fix_members or ()), strategy=server.generate_strategy,
                  max_tokens=server.generate_max_tokens)


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
    whole = types.Range(types.Position(0, 0), position_of(document, text, len(text)))
    return FixedDocument(report, args.uri, version, types.TextEdit(whole, best.fixed_source))


def summary(report: FixReport) -> dict[str, Any]:
    best = report.best
    return {"outcome": report.outcome.value, "message": report.message,
            "member": best.member if best and best.passed else None,
            "diff": best.diff if best else "",
            "attempts": [{"member": a.member, "passed": a.passed, "lines_changed": a.lines_changed}
                         for a in report.attempts]}
