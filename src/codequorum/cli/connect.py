"""`codequorum connect ADDRESS`: an editor's stdio bridged to a running server over tcp://,
tls://, ws:// or wss:// (server/bridge.py). The token comes from an environment variable or a
file, never from the command line, where every user of the machine could read it (`ps`)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.markup import escape

from codequorum.cli.errors import stderr
from codequorum.server.auth import read_token
from codequorum.server.limits import MIB, TransportLimits
from codequorum.vocabulary.errors import CodequorumError

TOKEN_ENV = "CODEQUORUM_TOKEN"  # the VS Code extension's and the Neovim plugin's default


def connect(
    address: str = typer.Argument(..., metavar="ADDRESS",
                                  help="tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/ or wss://HOST/PATH."),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="CA certificate (PEM) that signed the server's, trusted instead of "
        "the system's CAs (tls://, wss://)."),
    token_env: str = typer.Option(
        TOKEN_ENV, "--token-env", metavar="NAME", help="Environment variable holding the token, "
        "sent as initializationOptions.token."),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="File holding the token, read when the variable is unset or empty."),
    max_message_mb: int = typer.Option(
        TransportLimits().max_message_bytes // MIB, "--max-message-mb", min=1,
        help="Largest message relayed, either way; a larger one closes the connection."),
) -> None:
    """Relay LSP between stdin/stdout and a running `codequorum serve` (an editor's server command)."""
    from codequorum.server import bridge
    from codequorum.server.remote_address import parse_address

    try:
        options = bridge.BridgeOptions(token=_token(token_env, token_file), ca_file=ca_file,
                                       max_message_bytes=max_message_mb * MIB)
        bridge.run(parse_address(address), options)
    except bridge.BridgeError as error:
        _fail(str(error), error.exit_code)
    except CodequorumError as error:
        _fail(str(error), bridge.USAGE)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _token(env_name: str, file: Path | None) -> str | None:
    """$`env_name` when set and not empty, else the file's contents (as `serve --token-file`
    reads them), else None: a server on loopback may ask for none."""
    from_env = os.environ.get(env_name, "").strip() if env_name else ""
    if from_env:
        return from_env
    return read_token(file.expanduser()) if file is not None else None


def _fail(message: str, code: int) -> None:
    stderr.print(f"[bold red]codequorum connect:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
