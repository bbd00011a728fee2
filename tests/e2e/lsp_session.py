"""Driving the real `codequorum serve` process from tests, over stdio or the network."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))

CAPABILITIES = types.ClientCapabilities(
    window=types.WindowClientCapabilities(work_done_progress=True),
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True, workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
    text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities(),
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(documentation_format=[types.MarkupKind.Markdown]))),
)


def client_recording_edits() -> LanguageClient:
    """A test client that applies nothing but records every workspace/applyEdit it is sent."""
    client = make_test_lsp_client()
    client.applied_edits = []  # type: ignore[attr-defined]
    _read_code_actions_correctly(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params.edit)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    return client


def _read_code_actions_correctly(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 reads any object with a "command" key as a Command, so a CodeAction
    that carries a command comes back as a broken Command; tell them apart by the key's type."""
    converter = client.protocol._converter

    def structure(value: dict[str, Any], _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
        return converter.structure(value, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007 - lsprotocol's key


async def start_stdio(config: Path) -> LanguageClient:
    client = client_recording_edits()
    await client.start_io(CODEQUORUM, "serve", "--stdio", "--config", str(config))
    return client


async def initialize(client: LanguageClient, options: dict[str, Any] | None = None) -> types.InitializeResult:
    return await client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, initialization_options=options))


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text)))


def insert(client: LanguageClient, uri: str, version: int, line: int, character: int, text: str) -> None:
    where = types.Position(line, character)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, uri),
        [types.TextDocumentContentChangePartial(types.Range(where, where), text)]))


def inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character))


async def inline(client: LanguageClient, uri: str, line: int,
                 character: int) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(inline_params(uri, line, character))
    return list(result.items if isinstance(result, types.InlineCompletionList) else result or [])


async def command(client: LanguageClient, name: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(name, arguments=list(arguments) or None))


async def stats(client: LanguageClient) -> dict[str, Any]:
    return await command(client, "codequorum.stats")


async def configure(client: LanguageClient, settings: dict[str, Any]) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await stats(client)  # messages are handled in order: once this answers, the change is applied


async def wait_until(client: LanguageClient, predicate: Any, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the server's counters until `predicate(stats)` holds."""
    async with asyncio.timeout(timeout):
        while True:
            current = await stats(client)
            if predicate(current):
                return current
            await asyncio.sleep(0.01)


async def start_network_server(*args: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start `codequorum serve ARGS` and return it with the port it announced."""
    process = await asyncio.create_subprocess_exec(
        CODEQUORUM, "serve", *args, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while line := (await process.stderr.readline()).decode():
            if match := re.search(r"serving LSP on \w+://[^ ]+:(\d+)", line):
                _DRAINS.add(asyncio.create_task(_drain(process.stderr)))
                return process, int(match.group(1))
    raise AssertionError(f"the server exited ({await process.wait()}) without announcing a port")


_DRAINS: set[asyncio.Task[None]] = set()


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading the server's log so that a full pipe never blocks it."""
    while await stream.readline():
        pass
