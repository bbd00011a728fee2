"""The pygls server class: one per session, holding the session for the feature handlers."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)
from pygls.lsp.server import LanguageServer

from codequorum import __version__
from codequorum.server.connection import Connection
from codequorum.server.internal_errors import internal_error_line, reference
from codequorum.server.protocol import CodequorumProtocol
from codequorum.server.session import Session

log = logging.getLogger(__name__)


class CodequorumServer(LanguageServer):
    def __init__(self, session: Session, connection: Connection | None = None) -> None:
        super().__init__(
            "codequorum", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=CodequorumProtocol,
        )
        self.session = session
        self.connection = connection  # None: stdio, where `exit` ends the process

    def show_error(self, message: str) -> None:
        log.error("%s", message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))

    def show_warning(self, message: str) -> None:
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def log_warning(self, message: str) -> None:
        log.warning("%s", message)
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=message))

    def close_connection(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request (a malformed message, a failing notification) reach the
        user as one readable line; request errors already travel in their response."""
        if source is FeatureRequestError:
            return
        what = _WHAT_FAILED.get(source, "internal error")
        if source is JsonRpcException and isinstance(error, _CLIENT_MISTAKES):
            detail = (getattr(error, "message", None) or str(error) or type(error).__name__).strip()
            self.show_error(f"codequorum: {what}: {detail.splitlines()[-1]}")
            return
        ref = reference()
        log.error("internal error %s (%s)", ref, what, exc_info=error)
        self.show_error(f"codequorum: {what}: {internal_error_line(ref).removeprefix('codequorum: ')}")


# What a client's malformed message raises while it is read: worth telling the client.
_CLIENT_MISTAKES = (ValueError, JsonRpcInvalidParams, JsonRpcParseError, JsonRpcInvalidRequest)

_WHAT_FAILED = {
    JsonRpcException: "ignored a message that is not valid JSON-RPC",
    FeatureNotificationError: "a notification could not be handled",
}
