"""OpenAI-compatible HTTP servers on 127.0.0.1 that stand in for members (no model).

Each records every request it gets (path, headers, body) and answers with what its `answer`
function streams: an honest short answer, an endless stream, one huge chunk...
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], Iterator[bytes]]


def event(text: str, finish: str | None = None) -> bytes:
    chunk = {"choices": [{"index": 0, "text": text, "delta": {"content": text},
                          "finish_reason": finish}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


def honest(body: dict[str, Any]) -> Iterator[bytes]:
    yield event("x = ")
    yield event("1", finish="stop")
    yield b"data: [DONE]\n\n"


def endless(body: dict[str, Any]) -> Iterator[bytes]:
    """A token for ever, whatever max_tokens says."""
    while True:
        yield event("spam ")


def one_huge_chunk(size: int) -> Answer:
    def answer(body: dict[str, Any]) -> Iterator[bytes]:
        yield event("y" * size)
        yield event("", finish="stop")
        yield b"data: [DONE]\n\n"
    return answer


def endless_pings(body: dict[str, Any]) -> Iterator[bytes]:
    """Keep-alive comments for ever: no text at all."""
    while True:
        yield b": ping " + b"." * 4000 + b"\n\n"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeMember:
    answer: Answer = honest
    requests: list[Recorded] = field(default_factory=list)
    sent_bytes: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeMember:
        member = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw or b"{}")
                member.requests.append(Recorded(self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                try:
                    for piece in member.answer(body):
                        self.wfile.write(piece)
                        self.wfile.flush()
                        member.sent_bytes += len(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what an endless answer should end with

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def says(text: str) -> Answer:
    """An honest answer: `text`, then the end of the stream."""
    def answer(body: dict[str, Any]) -> Iterator[bytes]:
        yield event(text)
        yield event("", finish="stop")
        yield b"data: [DONE]\n\n"
    return answer
