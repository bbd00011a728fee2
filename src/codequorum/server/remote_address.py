"""The address of a running server, as editors name it: tcp://HOST:PORT, tls://HOST:PORT,
ws://HOST[:PORT][/PATH] or wss://HOST[:PORT][/PATH] (the same forms the VS Code extension's
`codequorum.remote.address` takes)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from codequorum.vocabulary.errors import CodequorumError

EXAMPLES = "tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/ or wss://HOST/PATH"
_WEBSOCKET_PORTS = {"ws": 80, "wss": 443}


class AddressError(CodequorumError):
    """Not an address a server can be reached at."""


@dataclass(frozen=True)
class RemoteAddress:
    scheme: str  # tcp, tls, ws or wss
    host: str  # without the brackets of an IPv6 address
    port: int
    url: str  # what the WebSocket client opens (ws, wss); the address as given otherwise

    @property
    def secure(self) -> bool:
        return self.scheme in ("tls", "wss")

    @property
    def websocket(self) -> bool:
        return self.scheme in _WEBSOCKET_PORTS

    def __str__(self) -> str:
        if self.websocket:
            return self.url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_address(text: str) -> RemoteAddress:
    """The address in `text`; AddressError with the forms accepted when it is not one."""
    given = text.strip()
    parts = urlsplit(given)
    scheme = parts.scheme.lower()
    if scheme not in ("tcp", "tls", *_WEBSOCKET_PORTS):
        raise AddressError(f"{given!r} is not a server address: use {EXAMPLES}")
    if parts.username is not None or parts.password is not None:
        raise AddressError(f"{given!r}: no credentials in the address; the token comes from "
                           "--token-env or --token-file")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise AddressError(f"{given!r}: the port must be a number from 1 to 65535")
    if not parts.hostname:
        raise AddressError(f"{given!r} needs a host: {scheme}://HOST:PORT")
    if scheme in _WEBSOCKET_PORTS:
        return RemoteAddress(scheme, parts.hostname, port or _WEBSOCKET_PORTS[scheme], given)
    if port is None:
        raise AddressError(f"{given!r} needs a port: {scheme}://HOST:PORT")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise AddressError(f"{given!r}: a {scheme}:// address is only HOST:PORT (a path is for ws:// and wss://)")
    return RemoteAddress(scheme, parts.hostname, port, given)
