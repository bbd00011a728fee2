"""What the load benchmarks' editors share: an edit, an inline completion request's params,
percentiles and a process's RSS (lsp_load.py with the real models, server_load.py without)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def edit(client: LanguageClient, uri: str, version: int, row: int, start: int, end: int, text: str) -> None:
    """didChange: `text` replaces columns start..end of `row`."""
    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(row, start), types.Position(row, end)), text)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, uri), [change]))


def inline_params(uri: str, row: int, character: int) -> types.InlineCompletionParams:
    """An inline completion as an editor asks for it while the user types."""
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(row, character))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
