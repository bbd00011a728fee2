"""`codequorum serve`: the language server, over stdio (editors) or the network (a team)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import typer

from codequorum.cli.errors import stderr, user_errors
from codequorum.server.auth import required_token
from codequorum.server.logs import install_log_filters
from codequorum.server.session import ServerContext
from codequorum.server.settings_source import SettingsSource
from codequorum.vocabulary.errors import CodequorumError


def serve(
    stdio: bool = typer.Option(False, "--stdio", help="Talk LSP over stdin/stdout (the default)."),
    tcp: str | None = typer.Option(None, "--tcp", metavar="HOST:PORT", help="Listen for LSP over TCP."),
    ws: str | None = typer.Option(None, "--ws", metavar="HOST:PORT", help="Listen for LSP over WebSocket."),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="File holding the token clients send as initializationOptions.token "
        "(required unless bound to loopback)."),
    config: Path | None = typer.Option(None, "--config", help="Configuration file (TOML)."),
) -> None:
    """Serve inline completions, completions, code actions and commands to editors."""
    from codequorum.server import transports

    with user_errors():
        if sum(bool(choice) for choice in (stdio, tcp, ws)) > 1:
            raise CodequorumError("choose one of --stdio, --tcp HOST:PORT, --ws HOST:PORT")
        source = SettingsSource.load(config)
        source.settings()  # refuse a bad configuration file now, not at the first request
        if tcp:
            _serve_network(transports.serve_tcp, tcp, source, token_file)
        elif ws:
            if importlib.util.find_spec("websockets") is None:
                raise CodequorumError("--ws needs the websockets package: pip install 'codequorum[ws]'")
            _serve_network(transports.serve_ws, ws, source, token_file)
        else:
            token = required_token("127.0.0.1", token_file)
            install_log_filters(token)
            transports.serve_stdio(ServerContext(source, token=token))


def _serve_network(serve_on: Callable[..., None], address: str, source: SettingsSource,
                   token_file: Path | None) -> None:
    host, port = _address(address)
    context = ServerContext(source, token=required_token(host, token_file))
    install_log_filters(context.token)
    try:
        serve_on(context, host, port, lambda line: stderr.print(line, highlight=False))
    except OSError as error:
        raise CodequorumError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def _address(value: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CodequorumError(f"expected HOST:PORT (e.g. 127.0.0.1:2087), got {value!r}")
    return host.strip("[]"), int(port)
