"""Server-sent events, as OpenAI-compatible servers stream answers: the `data:` payloads."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import httpx

DONE = "[DONE]"


async def sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """Each event's data, until `data: [DONE]` or the end of the stream.

    Comments (`: ping`, sent by some servers to keep the connection open) and other fields
    are ignored; several `data:` lines of one event are joined with newlines.
    """
    async for data in sse_events(response.aiter_lines()):
        yield data


async def sse_events(source: AsyncIterable[str]) -> AsyncIterator[str]:
    """`sse_data` over lines from any source (a bounded reader, say)."""
    lines: list[str] = []
    async for line in source:
        if line:
            if line.startswith("data:"):
                lines.append(line[5:].removeprefix(" "))
            continue
        if lines:
            data, lines = "\n".join(lines), []
            if data == DONE:
                return
            yield data
    if lines and "\n".join(lines) != DONE:
        yield "\n".join(lines)
