"""workspace/executeCommand: one handler per command, looked up in `COMMANDS`.

A command is an async function of the server and its raw arguments, validated with the
command's pydantic schema; adding one (e.g. `codequorum.fix`) is a function and an entry.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.workspace import TextDocument

from codequorum.server.documents import (
    document_path,
    offset_at,
    open_document,
    position_of,
)
from codequorum.server.extensions import (
    ACCEPT_COMMAND,
    FIX_COMMAND,
    GENERATE_COMMAND,
    STATS_COMMAND,
    GenerateArgs,
    WireRange,
    plain,
)
from codequorum.server.features.errors import ArgumentsError, client_errors
from codequorum.server.fixing import fix_document, keep_applied_fix, summary
from codequorum.server.generation import GenerateJob, generate
from codequorum.server.instructions import (
    GenerateSite,
    site_from_line,
    site_from_selection,
)
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.suggestions import Suggestion
from codequorum.vocabulary.cancel import CancelToken

Command = Callable[[CodequorumServer, list[Any]], Awaitable[Any]]


def register(server: CodequorumServer) -> None:
    for name, command in COMMANDS.items():
        server.command(name)(_handler(command))


def _handler(command: Command) -> Callable[..., Awaitable[Any]]:
    async def handle(ls: CodequorumServer, *args: Any) -> Any:
        with client_errors():
            return await command(ls, [plain(arg) for arg in args])
    return handle


async def accept(ls: CodequorumServer, args: list[Any]) -> dict[str, Any]:
    """The client inserted a suggestion (inline items and completion items run this)."""
    if len(args) != 1 or not isinstance(args[0], str):
        raise ArgumentsError(f"{ACCEPT_COMMAND} takes one argument, the suggestion id; got {args!r}")
    return {"stored": ls.session.record_feedback(args[0], "accepted")}


async def stats(ls: CodequorumServer, args: list[Any]) -> dict[str, Any]:
    return ls.session.stats.to_json_dict()


async def generate_command(ls: CodequorumServer, args: list[Any]) -> dict[str, Any]:
    """Code from the selection or comment at a place, applied as a workspace edit."""
    if len(args) != 1:
        raise ArgumentsError(f"{GENERATE_COMMAND} takes one argument, {{uri, range | line}}; got {args!r}")
    request = GenerateArgs.model_validate(args[0])
    document = open_document(ls.workspace, request.uri)
    text, version = document.source, document.version
    job = _generate_job(ls, document, request, text)
    async with _progress(ls, "codequorum: generating") as cancel:
        generated = await generate(ls.session.engine, job, cancel)
    if cancel.cancelled:
        return {"applied": False, "text": "", "reason": "cancelled"}
    result = generated.result
    if not generated.text:
        return {"applied": False, "text": "", "reason": result.trace.stop_reason or "no candidate"}
    where = position_of(document, text, generated.insert_at)
    edit = _edit(ls, request.uri, version, types.TextEdit(types.Range(where, where), generated.text))
    best = result.candidates[0]
    [suggestion_id] = ls.session.remember(
        (Suggestion(generated.text, best.member, result.strategy, best.score),),
        "generate", job.language, text[:generated.insert_at])
    applied = await _apply(ls, edit)
    return {"applied": applied, "text": generated.text, "id": suggestion_id, "member": best.member,
            "strategy": result.strategy, "edit": get_converter().unstructure(edit)}


async def fix_command(ls: CodequorumServer, args: list[Any]) -> dict[str, Any]:
    """Repair the function that the failing tests point at (docs/fix.md), as a workspace edit."""
    if len(args) != 1:
        raise ArgumentsError(f"{FIX_COMMAND} takes one argument, {{uri, test?}}; got {args!r}")
    async with _progress(ls, "codequorum: fixing"):
        fixed = await fix_document(ls, args[0])
    if fixed.edit is None:
        return {**summary(fixed.report), "applied": False}
    edit = _edit(ls, fixed.uri, fixed.version, fixed.edit)
    applied = await _apply(ls, edit, "codequorum: fix")
    if applied:
        await keep_applied_fix(ls, fixed.report)
    return {**summary(fixed.report), "applied": applied, "edit": get_converter().unstructure(edit)}


COMMANDS: dict[str, Command] = {
    ACCEPT_COMMAND: accept,
    FIX_COMMAND: fix_command,
    GENERATE_COMMAND: generate_command,
    STATS_COMMAND: stats,
}


def _generate_job(ls: CodequorumServer, document: TextDocument, request: GenerateArgs,
                  text: str) -> GenerateJob:
    path = document_path(document)
    language = ls.session.languages.name_for(document.language_id, path)
    comment = ls.session.languages.comment_prefix(language)
    settings = ls.session.settings
    return GenerateJob(
        text=text,
        site=_site(document, text, request, comment),
        language=language,
        path=path,
        strategy=settings.server.generate_strategy,
        max_tokens=settings.server.generate_max_tokens,
        deadline_s=settings.engine.deadline_s,
        members=tuple(settings.generation_members()),
    )


def _site(document: TextDocument, text: str, request: GenerateArgs, comment: str) -> GenerateSite:
    if request.line is not None:
        return site_from_line(text, request.line, comment)
    selection: WireRange = request.range  # type: ignore[assignment]
    start = offset_at(document, types.Position(selection.start.line, selection.start.character))
    end = offset_at(document, types.Position(selection.end.line, selection.end.character))
    if start == end:
        return site_from_line(text, selection.start.line, comment)
    return site_from_selection(text, min(start, end), max(start, end), comment)


def _edit(ls: CodequorumServer, uri: str, version: int | None, edit: types.TextEdit) -> types.WorkspaceEdit:
    """Versioned when the client supports it, so that it refuses the edit if the user typed
    while the models were working."""
    workspace_edit = ls.client_capabilities.workspace and ls.client_capabilities.workspace.workspace_edit
    if workspace_edit and workspace_edit.document_changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(identifier, [edit])])
    return types.WorkspaceEdit(changes={uri: [edit]})


async def _apply(ls: CodequorumServer, edit: types.WorkspaceEdit,
                 label: str = "codequorum: generate") -> bool:
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.apply_edit):
        return False  # the client applies the returned edit itself
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label))
    if not response.applied:
        ls.log_warning(f"the editor did not apply the edit ({label}): {response.failure_reason}")
    return bool(response.applied)


@contextlib.asynccontextmanager
async def _progress(ls: CodequorumServer, title: str) -> AsyncIterator[CancelToken]:
    """Work-done progress when the client shows it; cancelling it stops the models."""
    cancel = CancelToken()
    window = ls.client_capabilities.window
    if not (window and window.work_done_progress):
        yield cancel
        return
    token = f"codequorum-{uuid.uuid4().hex}"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.tokens[token].add_done_callback(lambda _: cancel.cancel())
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True))
    try:
        yield cancel
    finally:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd())
        ls.work_done_progress.tokens.pop(token, None)
