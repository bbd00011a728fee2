"""`codequorum serve`: the language server, over stdio (editors) or the network (a team)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer

from codequorum.cli.errors import stderr, user_errors
from codequorum.server.auth import TokenBook, is_loopback, read_token, required_tokens
from codequorum.server.logs import install_log_filters
from codequorum.server.ops_http import OpsEndpoint
from codequorum.server.session import ServerContext
from codequorum.server.settings_source import SettingsSource
from codequorum.vocabulary.errors import CodequorumError


@dataclass(frozen=True)
class _NetworkFlags:
    token_file: Path | None
    tokens_file: Path | None
    tls_cert: Path | None
    tls_key: Path | None
    metrics: str | None
    metrics_token_file: Path | None


def serve(
    stdio: bool = typer.Option(False, "--stdio", help="Talk LSP over stdin/stdout (the default)."),
    tcp: str | None = typer.Option(None, "--tcp", metavar="HOST:PORT", help="Listen for LSP over TCP."),
    ws: str | None = typer.Option(None, "--ws", metavar="HOST:PORT", help="Listen for LSP over WebSocket."),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="File holding one token shared by every client (the user "
        "\"default\"), sent as initializationOptions.token."),
    tokens_file: Path | None = typer.Option(
        None, "--tokens-file", help="File of `NAME = TOKEN` (or `NAME = sha256:HEX`) lines, one "
        "per user or team, mode 600. A network bind needs this or --token-file."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="TLS certificate chain (PEM): "
                                         "--tcp and --ws then speak TLS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="Its private key (PEM, unencrypted)."),
    metrics: str | None = typer.Option(
        None, "--metrics", metavar="HOST:PORT", help="Serve GET /healthz and /metrics (Prometheus) "
        "over HTTP on this address."),
    metrics_token_file: Path | None = typer.Option(
        None, "--metrics-token-file", help="Token that /healthz and /metrics requests must send as "
        "`Authorization: Bearer TOKEN` (required unless --metrics is on loopback)."),
    config: Path | None = typer.Option(None, "--config", help="Configuration file (TOML)."),
) -> None:
    """Serve inline completions, completions, code actions and commands to editors."""
    from codequorum.server import transports

    flags = _NetworkFlags(token_file, tokens_file, tls_cert, tls_key, metrics, metrics_token_file)
    with user_errors():
        if sum(bool(choice) for choice in (stdio, tcp, ws)) > 1:
            raise CodequorumError("choose one of --stdio, --tcp HOST:PORT, --ws HOST:PORT")
        source = SettingsSource.load(config)
        source.settings()  # refuse a bad configuration file now, not at the first request
        if tcp:
            _serve_network(transports.serve_tcp, tcp, source, flags)
        elif ws:
            if importlib.util.find_spec("websockets") is None:
                raise CodequorumError("--ws needs the websockets package: pip install 'codequorum[ws]'")
            _serve_network(transports.serve_ws, ws, source, flags)
        else:
            if tls_cert or tls_key or metrics:
                raise CodequorumError("--tls-cert, --tls-key and --metrics are for --tcp or --ws")
            tokens = required_tokens("127.0.0.1", token_file, tokens_file)
            install_log_filters(_secrets(tokens))
            transports.serve_stdio(ServerContext(source, tokens=tokens))


def _serve_network(serve_on: Callable[..., None], address: str, source: SettingsSource,
                   flags: _NetworkFlags) -> None:
    from codequorum.server.tls import server_context
    from codequorum.server.transports import NetworkOptions

    host, port = _address(address)
    tokens = required_tokens(host, flags.token_file, flags.tokens_file)
    options = NetworkOptions(tls=server_context(flags.tls_cert, flags.tls_key), ops=_ops_endpoint(flags))
    context = ServerContext(source, tokens=tokens)
    install_log_filters(_secrets(tokens) + ([options.ops.token] if options.ops and options.ops.token else []))
    try:
        serve_on(context, host, port, lambda line: stderr.print(line, highlight=False), options)
    except OSError as error:
        raise CodequorumError(f"cannot listen on {host}:{port} (or the --metrics address): "
                              f"{error.strerror or error}") from error


def _ops_endpoint(flags: _NetworkFlags) -> OpsEndpoint | None:
    if flags.metrics is None:
        if flags.metrics_token_file is not None:
            raise CodequorumError("--metrics-token-file needs --metrics HOST:PORT")
        return None
    host, port = _address(flags.metrics)
    token = read_token(flags.metrics_token_file) if flags.metrics_token_file else None
    if token is None and not is_loopback(host):
        raise CodequorumError(f"refusing to serve metrics on {host}: it is reachable from other "
                              "machines and the metrics name your users; add --metrics-token-file "
                              "FILE, or bind --metrics to 127.0.0.1")
    return OpsEndpoint(host, port, token)


def _secrets(tokens: TokenBook | None) -> list[str]:
    return tokens.secrets() if tokens is not None else []


def _address(value: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CodequorumError(f"expected HOST:PORT (e.g. 127.0.0.1:2087), got {value!r}")
    return host.strip("[]"), int(port)
