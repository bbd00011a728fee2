"""textDocument/completion, for clients without inline completions: one item per snippet."""

from __future__ import annotations

from lsprotocol import types

from codequorum.server.extensions import ACCEPT_COMMAND
from codequorum.server.features.errors import client_errors
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.queries import completion_query
from codequorum.server.suggestions import Suggestion

TRIGGER_CHARACTERS = [".", "(", "["]


def register(server: CodequorumServer) -> None:
    options = types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=False)
    server.feature(types.TEXT_DOCUMENT_COMPLETION, options)(completion)


async def completion(ls: CodequorumServer, params: types.CompletionParams) -> types.CompletionList:
    with client_errors():
        query = completion_query(ls.session, ls.workspace, params.text_document.uri, params.position)
    suggestions = await ls.session.completions.complete(query)
    ids = ls.session.remember(suggestions, "completion", query.language, query.text[:query.offset],
                                 query.text[query.offset:])
    here = types.Range(params.position, params.position)
    markdown = _supports_markdown(ls.client_capabilities)
    items = [_item(s, rank, suggestion_id, here, _documentation(s.text, query.language, markdown))
             for rank, (s, suggestion_id) in enumerate(zip(suggestions, ids, strict=True))]
    # Incomplete: the answer depends on the exact cursor, so the client must ask again as the
    # user types rather than filter this list.
    return types.CompletionList(is_incomplete=True, items=items)


def _item(suggestion: Suggestion, rank: int, suggestion_id: str, here: types.Range,
          documentation: str | types.MarkupContent) -> types.CompletionItem:
    label = next((line.strip() for line in suggestion.text.splitlines() if line.strip()), "")
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail=f"codequorum · {suggestion.member}",
        documentation=documentation,
        sort_text=f"{rank:04d}",
        preselect=rank == 0,
        text_edit=types.TextEdit(here, suggestion.text),
        insert_text_format=types.InsertTextFormat.PlainText,
        command=types.Command(title=f"codequorum: {suggestion.member}", command=ACCEPT_COMMAND,
                                  arguments=[suggestion_id]),
        data={"id": suggestion_id},
    )


def _documentation(text: str, language: str | None, markdown: bool) -> str | types.MarkupContent:
    if markdown:
        return types.MarkupContent(types.MarkupKind.Markdown, f"```{language or ''}\n{text}\n```")
    return text


def _supports_markdown(capabilities: types.ClientCapabilities) -> bool:
    document = capabilities.text_document
    item = document.completion.completion_item if document and document.completion else None
    return bool(item and item.documentation_format and types.MarkupKind.Markdown in item.documentation_format)
