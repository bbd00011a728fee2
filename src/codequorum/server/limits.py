"""What one network client may cost the server, before and after it authenticates.

Each connection costs a descriptor, memory for what it sends (read before the token check)
and memory for what the server sends it (queued while it does not read). Without limits a few
hundred silent sockets lock out the clients holding the token, one `Content-Length` of a
terabyte is read into memory before the token is checked, and a client that never reads makes
the server queue every answer. The limits come from `[server]` in the server's configuration
file (never from a client: server/client_settings.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from codequorum.config import ServerConfig

log = logging.getLogger(__name__)

KIB, MIB = 1024, 1024 * 1024


@dataclass(frozen=True)
class TransportLimits:
    handshake_timeout_s: float = 10.0
    max_connections: int = 64
    max_unauthenticated: int = 8
    initialize_max_bytes: int = 1024 * KIB
    max_message_bytes: int = 64 * MIB
    write_queue_bytes: int = 64 * MIB

    @classmethod
    def from_settings(cls, config: ServerConfig) -> TransportLimits:
        return cls(
            handshake_timeout_s=config.handshake_timeout_s,
            max_connections=config.max_connections,
            max_unauthenticated=config.max_unauthenticated,
            initialize_max_bytes=config.initialize_max_message_kb * KIB,
            max_message_bytes=config.max_message_mb * MIB,
            write_queue_bytes=config.write_queue_mb * MIB,
        )

    def message_bytes(self, initialized: bool) -> int:
        """The largest message accepted now: small until the client has initialized."""
        return self.max_message_bytes if initialized else self.initialize_max_bytes


class Client(Protocol):
    """A connected client as the gate sees it."""

    @property
    def initialized(self) -> bool: ...

    def close(self) -> None: ...


class ConnectionGate:
    """Admits connections up to the caps, and drops those that do not initialize in time.

    When `max_unauthenticated` connections are waiting, a new one replaces the oldest of them
    rather than being refused: silent sockets cannot lock out a client that initializes at once.
    """

    def __init__(self, limits: TransportLimits) -> None:
        self.limits = limits
        self._clients: dict[Client, tuple[asyncio.TimerHandle, object]] = {}  # oldest first

    def admit(self, client: Client, peer: object) -> bool:
        """False (and logged) when serving `client` would pass `max_connections`: close it."""
        if len(self._clients) >= self.limits.max_connections:
            log.warning("refused a connection from %s: %d connections already (max_connections)",
                        peer, len(self._clients))
            return False
        waiting = [other for other in self._clients if not other.initialized]
        if len(waiting) >= self.limits.max_unauthenticated:
            oldest = waiting[0]
            log.warning("dropped the connection from %s: %d connections have not initialized "
                        "(max_unauthenticated), it is the oldest", self._clients[oldest][1], len(waiting))
            self.leave(oldest)
            oldest.close()
        timer = asyncio.get_running_loop().call_later(
            self.limits.handshake_timeout_s, self._handshake_over, client)
        self._clients[client] = (timer, peer)
        return True

    def leave(self, client: Client) -> None:
        entry = self._clients.pop(client, None)
        if entry is not None:
            entry[0].cancel()

    def __len__(self) -> int:
        return len(self._clients)

    def _handshake_over(self, client: Client) -> None:
        entry = self._clients.get(client)
        if entry is not None and not client.initialized:
            log.warning("dropped the connection from %s: no initialize within %gs "
                        "(handshake_timeout_s)", entry[1], self.limits.handshake_timeout_s)
            self.leave(client)
            client.close()
