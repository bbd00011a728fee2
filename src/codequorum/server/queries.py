"""From an LSP cursor to a CompletionQuery: the document, its language, the completion's
scope, and snippets of the other open documents."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from codequorum.server.completion_service import CompletionQuery
from codequorum.server.context_snippets import OpenDocument, relevant_snippets
from codequorum.server.documents import cursor_at, display_path, document_path
from codequorum.server.prompt_window import prompt_window
from codequorum.server.session import Session


def completion_query(session: Session, workspace: Workspace, uri: str,
                     position: types.Position) -> CompletionQuery:
    cursor = cursor_at(workspace, uri, position)
    document = cursor.document
    path = document_path(document)
    language = session.languages.name_for(document.language_id, path)
    config = session.settings.server
    window = prompt_window(cursor.text, cursor.offset, config.prefix_chars, config.suffix_chars)
    prefix, suffix = window.text[:window.cursor], window.text[window.cursor:]
    others = _other_documents(workspace, document)
    return CompletionQuery(
        document=uri,
        text=cursor.text,
        offset=cursor.offset,
        language=language,
        path=path,
        scope=session.languages.scope(language, prefix, suffix),
        context=relevant_snippets(others, prefix, suffix, config.context_chars),
        members=_tuple_or_none(session.settings.inline_members_for(language)),
    )


def _tuple_or_none(members: list[str] | None) -> tuple[str, ...] | None:
    return tuple(members) if members is not None else None


def _other_documents(workspace: Workspace, current: TextDocument) -> list[OpenDocument]:
    root = workspace.root_path
    return [OpenDocument(display_path(doc, root), doc.source)
            for doc in workspace.text_documents.values() if doc.uri != current.uri]
