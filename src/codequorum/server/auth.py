"""Who may talk to a network-bound server: a shared token, checked at `initialize`.

Loopback needs no token (only this machine can connect); any other address does, and the
server refuses to start without one rather than serve models and code to the network.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from pathlib import Path

from codequorum.vocabulary.errors import CodequorumError


class AuthError(CodequorumError):
    """The server cannot start with these network settings."""


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        raise AuthError(f"cannot resolve {host!r}: {error}") from error
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise AuthError(f"cannot read the token file {path}: {error}") from error
    if not token:
        raise AuthError(f"the token file {path} is empty: put a long random string in it, "
                        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE`")
    return token


def required_token(host: str, token_file: Path | None) -> str | None:
    """The token clients must present, or None; refuses a non-loopback bind without one."""
    if token_file is not None:
        return read_token(token_file)
    if not is_loopback(host):
        raise AuthError(
            f"refusing to serve on {host}: it is reachable from other machines, so clients must "
            "authenticate. Start with --token-file FILE (clients send the token as "
            "initializationOptions.token), or bind to 127.0.0.1."
        )
    return None


def token_matches(expected: str | None, presented: object) -> bool:
    if expected is None:
        return True
    return isinstance(presented, str) and hmac.compare_digest(expected.encode(), presented.encode())
