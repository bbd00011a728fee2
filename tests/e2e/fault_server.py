"""A tiny, real OpenAI-compatible HTTP server that misbehaves on purpose.

    python tests/e2e/fault_server.py --mode {ok,slow,garbage} [--port 0] [--sleep 60]

ok: a valid streamed answer ("x = 1"); slow: waits `--sleep` seconds before answering,
watching whether the client hangs up; garbage: 200 with a JSON body cut in half.
It prints "PORT <n>" once listening; GET /stats returns the requests and hang-ups seen.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"requests": 0, "disconnects": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "ok"
    sleep_s = 60.0

    def log_message(self, format: str, *args: object) -> None:
        return None  # quiet: the test reads stdout for the port only

    def do_GET(self) -> None:
        self._send(200, "application/json", json.dumps(STATS).encode())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        STATS["requests"] += 1
        if self.mode == "garbage":
            self._send(200, "application/json", b'{"choices": [{"text": "x = 1", "fin')
        elif self.mode == "slow" and self._client_left_within(self.sleep_s):
            STATS["disconnects"] += 1
        else:
            self._send(200, "text/event-stream", self._answer())

    def _answer(self) -> bytes:
        chat = "chat" in self.path
        pieces = [{"delta": {"content": t}} if chat else {"text": t} for t in ("x = ", "1")]
        pieces.append({"delta": {}} if chat else {"text": ""})
        pieces[-1]["finish_reason"] = "stop"
        events = [f"data: {json.dumps({'choices': [p | {'index': 0}]})}\n\n" for p in pieces]
        return ("".join(events) + "data: [DONE]\n\n").encode()

    def _client_left_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        return False

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["ok", "slow", "garbage"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=60.0)
    args = parser.parse_args()
    Handler.mode, Handler.sleep_s = args.mode, args.sleep
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
