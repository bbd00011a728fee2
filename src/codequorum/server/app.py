"""A language server for one session, with every feature registered."""

from __future__ import annotations

from codequorum.server.connection import Connection
from codequorum.server.features import (
    code_actions,
    commands,
    completion,
    configuration,
    feedback,
    inline_completion,
    lifecycle,
    open_documents,
    status,
)
from codequorum.server.lsp_server import CodequorumServer
from codequorum.server.session import Session

FEATURES = (lifecycle, open_documents, inline_completion, completion, code_actions, commands, configuration,
            feedback, status)


def create_server(session: Session, connection: Connection | None = None) -> CodequorumServer:
    server = CodequorumServer(session, connection)
    for feature in FEATURES:
        feature.register(server)
    return server
