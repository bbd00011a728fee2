"""textDocument/codeAction: "Generate with codequorum" on a selection or a comment line, and
"Fix failing tests with codequorum" in a saved document of a language that can read failures,
inside the client's workspace folders (server/workspace_files.py)."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from codequorum.server.documents import DocumentError, document_path, open_document
from codequorum.server.extensions import FIX_COMMAND, GENERATE_COMMAND
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.workspace_files import workspace_file

TITLE = "Generate with codequorum"
KIND = types.CodeActionKind.Refactor
FIX_TITLE = "Fix failing tests with codequorum"
FIX_KIND = types.CodeActionKind.QuickFix
FIX_LANGUAGES = frozenset({"python"})  # those whose plugin implements FailureLocator


def register(server: CodequorumServer) -> None:
    options = types.CodeActionOptions(code_action_kinds=[KIND, FIX_KIND])
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(code_actions)


def code_actions(ls: CodequorumServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri, selection = params.text_document.uri, params.range
    try:
        document = open_document(ls.workspace, uri)
    except DocumentError:
        return []  # offering nothing is the right answer for a document we do not have
    return [*_generate_action(ls, document, uri, selection), *_fix_action(ls, document, uri)]


def _generate_action(ls: CodequorumServer, document: TextDocument, uri: str,
                     selection: types.Range) -> list[types.CodeAction]:
    if selection.start != selection.end:
        argument: dict[str, object] = {"uri": uri, "range": _range_json(selection)}
    elif _is_comment_line(ls, document, selection.start.line):
        argument = {"uri": uri, "line": selection.start.line}
    else:
        return []
    command = types.Command(title=TITLE, command=GENERATE_COMMAND, arguments=[argument])
    return [types.CodeAction(title=TITLE, kind=KIND, command=command)]


def _fix_action(ls: CodequorumServer, document: TextDocument, uri: str) -> list[types.CodeAction]:
    language = ls.session.languages.name_for(document.language_id, document_path(document))
    if language not in FIX_LANGUAGES:
        return []
    try:
        workspace_file(ls.workspace, uri, stdio=ls.connection is None)
    except DocumentError:
        return []  # the fix runs the tests on a saved file inside the workspace folders
    command = types.Command(title=FIX_TITLE, command=FIX_COMMAND, arguments=[{"uri": uri}])
    return [types.CodeAction(title=FIX_TITLE, kind=FIX_KIND, command=command)]


def _is_comment_line(ls: CodequorumServer, document: TextDocument, line: int) -> bool:
    lines = document.source.split("\n")
    if not 0 <= line < len(lines):
        return False
    language = ls.session.languages.name_for(document.language_id, document_path(document))
    return lines[line].lstrip().startswith(ls.session.languages.comment_prefix(language))


def _range_json(selection: types.Range) -> dict[str, dict[str, int]]:
    return {"start": {"line": selection.start.line, "character": selection.start.character},
            "end": {"line": selection.end.line, "character": selection.end.character}}
