"""A blocking LSP client on a bare socket: it sends what an attacker would and keeps every
notification the server sends (window/showMessage...) for the test to read."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from tests.security.conftest import receive, send


@dataclass
class WireClient:
    sock: socket.socket
    notifications: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 1

    @classmethod
    def connect(cls, port: int, timeout: float = 30) -> WireClient:
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout))

    def __post_init__(self) -> None:
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def request(self, method: str, params: Any) -> dict[str, Any]:
        msg_id, self._next_id = self._next_id, self._next_id + 1
        send(self.sock, {"id": msg_id, "method": method, "params": params})
        while True:
            message = receive(self.reader)
            if message.get("id") == msg_id and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a request from the server: answer it
                send(self.sock, {"id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)

    def notify(self, method: str, params: Any) -> None:
        send(self.sock, {"method": method, "params": params})

    def initialize(self, options: Any = None, root: str | None = None,
                   capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
        params = {"processId": os.getpid(), "capabilities": capabilities or {},
                  "initializationOptions": options,
                  "rootUri": root, "workspaceFolders": [{"uri": root, "name": "w"}] if root else None}
        reply = self.request("initialize", params)
        if "result" in reply:
            self.notify("initialized", {})
        return reply

    def shown(self) -> list[str]:
        """The messages of the window/showMessage notifications so far."""
        return [n["params"]["message"] for n in self.notifications if n["method"] == "window/showMessage"]

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": 1, "text": text}})

    def command(self, name: str, *arguments: Any) -> dict[str, Any]:
        return self.request("workspace/executeCommand", {"command": name, "arguments": list(arguments)})
