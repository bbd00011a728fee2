"""textDocument/didOpen and didClose, beyond the workspace's own bookkeeping (which pygls does
first): an opened document's prompt is read into the local members' KV caches while the user
finds the place to type ([server] warm_on_open); closing it stops the background work for it
(that warming, a refinement, a fallback's warming)."""

from __future__ import annotations

import logging

from lsprotocol import types

from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.queries import open_query

log = logging.getLogger(__name__)


def register(server: CodequorumServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)


def did_open(ls: CodequorumServer, params: types.DidOpenTextDocumentParams) -> None:
    if not ls.session.settings.server.warm_on_open:
        return
    uri = params.text_document.uri
    try:
        ls.session.completions.warm_open(open_query(ls.session, ls.workspace, uri))
    except Exception:  # warming is a bonus: the client never hears of its failure
        log.exception("could not warm the members' prompt for %s", uri)


def did_close(ls: CodequorumServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.session.completions.document_closed(params.text_document.uri)
