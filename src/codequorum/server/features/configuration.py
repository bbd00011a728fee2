"""workspace/didChangeConfiguration: new options, validated; a bad one keeps the old settings.

A network client's options go through the allow-list (server/client_settings.py): the keys
refused are named in a window/showMessage warning; the stdio client may set every key."""

from __future__ import annotations

from lsprotocol import types

from codequorum.server.client_settings import describe
from codequorum.server.lsp_server import CodequorumServer
from codequorum.vocabulary.errors import ConfigError

ORIGIN = "workspace/didChangeConfiguration"


def register(server: CodequorumServer) -> None:
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)


def did_change_configuration(ls: CodequorumServer, params: types.DidChangeConfigurationParams) -> None:
    if params.settings is None:
        return  # clients of the pull model send no settings
    try:
        refused = ls.session.apply_options(params.settings, ORIGIN, trusted=ls.connection is None)
    except ConfigError as error:
        ls.show_error(f"{error}\n(keeping the previous configuration, from {ls.session.settings.source})")
        return
    if refused:
        ls.show_warning(describe(refused, ORIGIN))
