"""What `codequorum connect` reads in the LSP conversation it relays: it adds the token to the
editor's `initialize` (as initializationOptions.token, the way every transport sends it), notes
whether the server refused it, and whether the editor said `exit` (after which the server
closing the connection is the normal end, not a failure).

Only the start of the conversation is parsed, and `exit` looked for in small messages only:
the rest passes through as bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

UNAUTHORIZED = -32001  # the server's answer to a missing or wrong token (features/lifecycle.py)
_SMALL = 4096  # an `exit` notification is some 40 bytes


def parse(body: bytes) -> dict[str, Any] | None:
    """The JSON object in `body`, or None (not JSON, or not an object: the server will say)."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return message if isinstance(message, dict) else None


def with_token(message: dict[str, Any], token: str) -> dict[str, Any]:
    """`initialize` with initializationOptions.token set (the editor's options kept)."""
    params = message.get("params")
    if not isinstance(params, dict):
        return message
    options = params.get("initializationOptions")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return message  # the server refuses options that are not an object, token or not
    return {**message, "params": {**params, "initializationOptions": {**options, "token": token}}}


@dataclass
class Handshake:
    token: str | None
    initialize_id: Any = None  # the id of the editor's `initialize`, once sent
    initialize_answered: bool = False
    answered: bool = False  # the server has sent anything at all
    refusal: str | None = None  # the server's message when it refused the token
    exit_sent: bool = False

    def from_editor(self, body: bytes) -> bytes:
        """The editor's message as the server is to get it."""
        if self.initialize_id is None:
            message = parse(body)
            if message is not None and message.get("method") == "initialize" and "id" in message:
                self.initialize_id = message["id"]
                if self.token is not None:
                    return json.dumps(with_token(message, self.token), ensure_ascii=False).encode()
        elif len(body) < _SMALL and b'"exit"' in body:
            message = parse(body)
            self.exit_sent = self.exit_sent or (message is not None and message.get("method") == "exit")
        return body

    def from_server(self, body: bytes) -> bytes:
        """The server's message, unchanged; the answer to `initialize` noted while awaited."""
        self.answered = True
        if self.initialize_id is not None and not self.initialize_answered:
            self._note_answer(body)
        return body

    def _note_answer(self, body: bytes) -> None:
        message = parse(body)
        if message is None or "method" in message or message.get("id") != self.initialize_id:
            return
        error = message.get("error")
        if isinstance(error, dict) and error.get("code") == UNAUTHORIZED:
            self.refusal = str(error.get("message", "the token was refused"))
        self.initialize_answered = True
