"""From an LSP cursor to a CompletionQuery: the document, its language, the completion's
scope, and snippets of the other open documents; and the query a newly opened document's
prompt is warmed with."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from codequorum.server.completion_service import CompletionQuery
from codequorum.server.context_snippets import OpenDocument, relevant_snippets
from codequorum.server.documents import cursor_at, display_path, document_path, open_document
from codequorum.server.prompt_window import prompt_window
from codequorum.server.session import Session
from codequorum.vocabulary.scope import Scope


def completion_query(session: Session, workspace: Workspace, uri: str,
                     position: types.Position) -> CompletionQuery:
    cursor = cursor_at(workspace, uri, position)
    return _query_at(session, workspace, uri, cursor.document, cursor.offset)


def open_query(session: Session, workspace: Workspace, uri: str) -> CompletionQuery:
    """The query a newly opened document is warmed with: the cursor at the start of the line
    where its first prompt window ends. Every later cursor up to there gets a window starting
    at the document's start too, so its prompt begins with the part this one read."""
    document = open_document(workspace, uri)
    end = min(len(document.source), session.settings.server.prefix_chars)
    line_start = document.source.rfind("\n", 0, end) + 1
    return _query_at(session, workspace, uri, document, line_start, scope="block")


def _query_at(session: Session, workspace: Workspace, uri: str, document: TextDocument, offset: int,
              scope: Scope | None = None) -> CompletionQuery:
    """The query at `offset`; its scope decided from the document unless given."""
    text = document.source
    path = document_path(document)
    language = session.languages.name_for(document.language_id, path)
    config = session.settings.server
    window = prompt_window(text, offset, config.prefix_chars, config.suffix_chars)
    prefix, suffix = window.text[:window.cursor], window.text[window.cursor:]
    others = _other_documents(workspace, document)
    return CompletionQuery(
        document=uri,
        text=text,
        offset=offset,
        language=language,
        path=path,
        scope=scope or session.languages.scope(language, prefix, suffix),
        context=relevant_snippets(others, prefix, suffix, config.context_chars),
        members=_tuple_or_none(session.settings.inline_members_for(language)),
    )


def _tuple_or_none(members: list[str] | None) -> tuple[str, ...] | None:
    return tuple(members) if members is not None else None


def _other_documents(workspace: Workspace, current: TextDocument) -> list[OpenDocument]:
    root = workspace.root_path
    return [OpenDocument(display_path(doc, root), doc.source)
            for doc in workspace.text_documents.values() if doc.uri != current.uri]
