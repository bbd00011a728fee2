"""textDocument/inlineCompletion (LSP 3.18): the best snippet first, then the alternatives."""

from __future__ import annotations

from lsprotocol import types

from codequorum.server.extensions import ACCEPT_COMMAND
from codequorum.server.features.errors import client_errors
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.queries import completion_query


def register(server: CodequorumServer) -> None:
    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
        inline_completion)


async def inline_completion(
    ls: CodequorumServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    with client_errors():
        query = completion_query(ls.session, ls.workspace, params.text_document.uri, params.position)
    suggestions = await ls.session.completions.complete(query)
    ids = ls.session.remember(suggestions, "inline", query.language, query.text[:query.offset],
                                 query.text[query.offset:])
    here = types.Range(params.position, params.position)
    return types.InlineCompletionList(items=[
        types.InlineCompletionItem(
            insert_text=suggestion.text,
            range=here,
            command=types.Command(title=f"codequorum: {suggestion.member}", command=ACCEPT_COMMAND,
                                  arguments=[suggestion_id]),
        )
        for suggestion, suggestion_id in zip(suggestions, ids, strict=True)
    ])
