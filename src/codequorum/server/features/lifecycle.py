"""initialize (token check: who the client is; client options), initialized (warm-up), shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcServerError

from codequorum.server.client_settings import describe
from codequorum.server.features import status
from codequorum.server.lsp_server import CodequorumServer
from codequorum.vocabulary.errors import ConfigError

UNAUTHORIZED = -32001
ORIGIN = "initializationOptions"


def register(server: CodequorumServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.SHUTDOWN)(shutdown)


def initialize(ls: CodequorumServer, params: types.InitializeParams) -> None:
    options: Any = params.initialization_options
    token = options.pop("token", None) if isinstance(options, dict) else None
    tokens = ls.session.context.tokens
    user = tokens.authenticate(token) if tokens is not None else None
    if tokens is not None and user is None:
        asyncio.get_running_loop().call_soon(ls.close_connection)  # after the error is sent
        reason = "missing" if token is None else "wrong"
        raise JsonRpcServerError(
            f"codequorum: {reason} token: this server requires initializationOptions.token "
            "(your token from the server's --tokens-file, or the contents of its --token-file)",
            UNAUTHORIZED)
    ls.session.user = user
    try:
        refused = ls.session.apply_options(options, ORIGIN, trusted=ls.connection is None)
    except ConfigError as error:
        ls.show_error(f"{error}\n(using {ls.session.settings.source} instead)")
    else:
        if refused:
            ls.show_warning(describe(refused, ORIGIN))
    ls.session.initialized = True


def initialized(ls: CodequorumServer, params: types.InitializedParams) -> None:
    status.warm_up(ls)  # codequorum/status: loading, then ready


async def shutdown(ls: CodequorumServer, params: None) -> None:
    await ls.session.aclose()
