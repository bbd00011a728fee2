"""pygls' protocol with the guards a server facing editors (and networks) needs.

- A request whose params do not fit the method's schema gets an InvalidParams error naming
  the bad fields; pygls would only log it, leaving the client waiting for ever.
- Until `initialize` has succeeded (with the token, when one is required) every other
  request is refused and notifications are dropped.
- On a network connection `exit` closes that connection instead of ending the process.
- Every request is counted (server/metrics.py: method, user, latency, outcome) from its
  arrival to its response, and on a network connection it must fit its user's rate limits
  (server/user_limits.py) or be refused at once.
- No error answer carries a traceback: an internal error is one line with a reference that
  the server's log explains (server/internal_errors.py).
"""

from __future__ import annotations

import logging
import time
from collections import deque
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
from codequorum.server.user_limits import RATE_LIMITED

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
_ALLOWED_BEFORE_INITIALIZE = frozenset({types.INITIALIZE, types.EXIT})
_OUTCOMES = {-32800: "cancelled", RATE_LIMITED: "rate_limited", -32001: "unauthorized",
             SERVER_NOT_INITIALIZED: "refused", INVALID_PARAMS: "invalid"}


@dataclass(frozen=True)
class _InFlight:
    method: str
    started: float
    principal: str | None  # counted against this principal's limits until answered


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

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        # requests not answered yet, by id; a client may reuse an id: answered oldest first
        self._in_flight: dict[Any, deque[_InFlight]] = {}

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                return MalformedRequest(data["id"], str(data["method"]), _describe(error))
            raise

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if method is not None and msg_id is not None:
            self._received(msg_id, method)
        if isinstance(message, MalformedRequest):
            problem = f"invalid params for {message.method}: {message.problem}"
            self._refuse(message.id, INVALID_PARAMS, problem)
            return
        if method is not None and not self._server.session.initialized \
                and method not in _ALLOWED_BEFORE_INITIALIZE:
            self._before_initialize(message, method)
            return
        if method is not None and msg_id is not None and not self._within_limits(msg_id, method):
            return
        super().handle_message(message)

    def forget_requests(self) -> None:
        """The connection is gone: what it had in progress no longer counts against its user."""
        for msg_id, waiting in list(self._in_flight.items()):
            for _ in range(len(waiting)):
                self._answered(msg_id, None, None, outcome="abandoned")

    def _received(self, msg_id: Any, method: str) -> None:
        self._in_flight.setdefault(msg_id, deque()).append(_InFlight(method, time.monotonic(), None))
        self._server.session.context.metrics.request_received(method, self._user_label())

    def _within_limits(self, msg_id: Any, method: str) -> bool:
        """Admit a request against its principal's limits (network connections only)."""
        if self._server.connection is None or method == types.SHUTDOWN:
            return True
        if method == types.INITIALIZE and not self._server.session.initialized:
            return True  # the first one: who the user is is not known yet
        principal = self._server.session.user or f"anonymous connection {id(self):x}"
        refusal = self._server.session.context.user_limits.admit(principal)
        if refusal is not None:
            self._refuse(msg_id, RATE_LIMITED, f"codequorum: {method} refused: {refusal}")
            return False
        waiting = self._in_flight.get(msg_id)
        if waiting:
            entry = waiting[-1]  # this request, received just now
            waiting[-1] = _InFlight(entry.method, entry.started, principal)
        return True

    def _answered(self, msg_id: Any, result: Any, error: types.ResponseError | None,
                  outcome: str | None = None) -> None:
        waiting = self._in_flight.get(msg_id)
        if not waiting:
            return
        entry = waiting.popleft()
        if not waiting:
            del self._in_flight[msg_id]
        context = self._server.session.context
        if entry.principal is not None:
            context.user_limits.done(entry.principal)
        if outcome is None:
            outcome = "ok" if error is None else _OUTCOMES.get(error.code, "error")
        context.metrics.request_answered(entry.method, self._user_label(), outcome,
                                         time.monotonic() - entry.started, _suggestions(entry.method, result))

    def _user_label(self) -> str:
        return self._server.session.user or "anonymous"

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
        self._answered(msg_id, result, error)
        super()._send_response(msg_id, result, error)

    def _before_initialize(self, message: Any, method: str) -> None:
        if getattr(message, "id", None) is None:
            log.warning("dropped %s: the client has not been initialized", method)
            return
        needs = "with initializationOptions.token " if self._server.session.context.tokens else ""
        self._refuse(message.id, SERVER_NOT_INITIALIZED,
                     f"{method} refused: send initialize {needs}first")

    def _refuse(self, msg_id: int | str, code: int, message: str) -> None:
        log.warning("%s", message)
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))


def _suggestions(method: str, result: Any) -> int | None:
    """How many suggestions an inline completion answered (None for other methods)."""
    if method != types.TEXT_DOCUMENT_INLINE_COMPLETION:
        return None
    if isinstance(result, types.InlineCompletionList):
        return len(result.items)
    return len(result) if isinstance(result, list) else 0


def _describe(error: JsonRpcException) -> str:
    cause = error.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        return "; ".join(cattrs.transform_error(cause))
    return str(cause or error)
