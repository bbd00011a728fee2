"""pygls' protocol with the guards a server facing editors (and networks) needs.

- A request whose params do not fit the method's schema gets an InvalidParams error naming
  the bad fields; pygls would only log it, leaving the client waiting for ever.
- Until `initialize` has succeeded (with the token, when one is required) every other
  request is refused and notifications are dropped.
- On a network connection `exit` closes that connection instead of ending the process.
- No error answer carries a traceback: an internal error is one line with a reference that
  the server's log explains (server/internal_errors.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method

from codequorum.server.connection import Connection
from codequorum.server.internal_errors import safe_for_client
from codequorum.server.session import Session

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
_ALLOWED_BEFORE_INITIALIZE = frozenset({types.INITIALIZE, types.EXIT})


@dataclass(frozen=True)
class MalformedRequest:
    id: int | str
    method: str
    problem: str
    jsonrpc: str = "2.0"


class GuardedServer(Protocol):
    """What the guards need of the server (`lsp_server.CodequorumServer`, which imports this)."""

    session: Session
    connection: Connection | None

    def close_connection(self) -> None: ...

    def log_warning(self, message: str) -> None: ...


class CodequorumProtocol(LanguageServerProtocol):
    _server: GuardedServer

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                return MalformedRequest(data["id"], str(data["method"]), _describe(error))
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, MalformedRequest):
            problem = f"invalid params for {message.method}: {message.problem}"
            self._refuse(message.id, INVALID_PARAMS, problem)
            return
        method = getattr(message, "method", None)
        if method is not None and not self._server.session.initialized \
                and method not in _ALLOWED_BEFORE_INITIALIZE:
            self._before_initialize(message, method)
            return
        super().handle_message(message)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        if self._server.connection is None:
            return (yield from super().lsp_exit(*args))
        self._server.close_connection()
        return None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            self._server.log_warning(f"ignored a change to {uri}: it was never opened (send didOpen first)")
            return None
        return (yield from super().lsp_text_document__did_change(params))

    def _send_response(self, msg_id: Any, result: Any | None = None,
                       error: types.ResponseError | None = None) -> None:
        if error is not None:
            error = safe_for_client(error, msg_id)
        super()._send_response(msg_id, result, error)

    def _before_initialize(self, message: Any, method: str) -> None:
        if getattr(message, "id", None) is None:
            log.warning("dropped %s: the client has not been initialized", method)
            return
        needs = "with initializationOptions.token " if self._server.session.context.token else ""
        self._refuse(message.id, SERVER_NOT_INITIALIZED,
                     f"{method} refused: send initialize {needs}first")

    def _refuse(self, msg_id: int | str, code: int, message: str) -> None:
        log.warning("%s", message)
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))


def _describe(error: JsonRpcException) -> str:
    cause = error.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause))
    return str(cause or error)
