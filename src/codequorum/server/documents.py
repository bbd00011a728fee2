"""Open documents and cursor positions, checked: a bad URI or position is the client's error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace


class DocumentError(ValueError):
    """A request named a document or a place in it that the server does not have."""


@dataclass(frozen=True)
class Cursor:
    document: TextDocument
    offset: int

    @property
    def text(self) -> str:
        return self.document.source

    @property
    def prefix(self) -> str:
        return self.text[:self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset:]


def open_document(workspace: Workspace, uri: str) -> TextDocument:
    document: TextDocument | None = workspace.text_documents.get(unquote(uri))
    if document is None:
        raise DocumentError(f"{uri} is not open: send textDocument/didOpen before asking about it")
    return document


def offset_at(document: TextDocument, position: types.Position) -> int:
    """The offset of an LSP position; a character past the line's end means its end (as the
    specification says), a line outside the document is an error."""
    last_line = document.source.count("\n")
    if not 0 <= position.line <= last_line:
        raise DocumentError(
            f"line {position.line} is outside {document.uri} (lines 0..{last_line}, counted from 0)"
        )
    if position.character < 0:
        raise DocumentError(f"character {position.character} is negative in {document.uri}")
    if position.line == len(document.lines):
        # The empty line after a final newline; pygls would count the previous line's
        # UTF-16 units as characters there.
        return len(document.source)
    return document.offset_at_position(position)


def cursor_at(workspace: Workspace, uri: str, position: types.Position) -> Cursor:
    document = open_document(workspace, uri)
    return Cursor(document, offset_at(document, position))


def document_path(document: TextDocument) -> Path | None:
    return Path(document.path) if document.path else None


def display_path(document: TextDocument, root: str | None) -> str:
    """The document's path relative to the workspace root when it is inside it."""
    path = document.path or document.uri
    if root and document.path:
        relative = os.path.relpath(path, root)
        if not relative.startswith(".."):
            return relative
    return path


def position_of(document: TextDocument, text: str, offset: int) -> types.Position:
    """The LSP position of `offset` in `text`, a snapshot of `document` (which may have changed
    since), in the client's position units."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line, document.position_codec.client_num_units(text[line_start:offset]))
