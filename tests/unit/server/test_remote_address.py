"""The addresses `codequorum connect` takes: the VS Code extension's forms, nothing else."""

from __future__ import annotations

import pytest

from codequorum.server.remote_address import AddressError, RemoteAddress, parse_address


@pytest.mark.parametrize(("text", "expected"), [
    ("tcp://127.0.0.1:2087", RemoteAddress("tcp", "127.0.0.1", 2087, "tcp://127.0.0.1:2087")),
    (" tls://models.example:443/ ", RemoteAddress("tls", "models.example", 443, "tls://models.example:443/")),
    ("tcp://[::1]:9", RemoteAddress("tcp", "::1", 9, "tcp://[::1]:9")),
    ("ws://127.0.0.1:8080/", RemoteAddress("ws", "127.0.0.1", 8080, "ws://127.0.0.1:8080/")),
    ("wss://models.example/lsp?team=a", RemoteAddress("wss", "models.example", 443, "wss://models.example/lsp?team=a")),
    ("ws://[::1]/", RemoteAddress("ws", "::1", 80, "ws://[::1]/")),
    ("TLS://Host:1", RemoteAddress("tls", "host", 1, "TLS://Host:1")),
])
def test_the_forms_editors_use(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("127.0.0.1:2087", "is not a server address"),
    ("http://host:80/", "is not a server address"),
    ("tcp://host", "needs a port"),
    ("tls://:443", "needs a host"),
    ("tcp://host:0", "from 1 to 65535"),
    ("tcp://host:70000", "from 1 to 65535"),
    ("tcp://host:http", "from 1 to 65535"),
    ("tcp://host:1/path", "only HOST:PORT"),
    ("wss://user:secret@host/", "no credentials in the address"),
])
def test_what_is_not_an_address_is_told(text, says):
    with pytest.raises(AddressError, match=says):
        parse_address(text)


def test_secure_and_websocket_follow_the_scheme():
    secure = {scheme: parse_address(f"{scheme}://h:1").secure for scheme in ("tcp", "tls", "ws", "wss")}
    websocket = {scheme: parse_address(f"{scheme}://h:1").websocket for scheme in ("tcp", "tls", "ws", "wss")}
    assert secure == {"tcp": False, "tls": True, "ws": False, "wss": True}
    assert websocket == {"tcp": False, "tls": False, "ws": True, "wss": True}


def test_it_is_shown_as_it_is_reached():
    assert str(parse_address("tls://[::1]:9/")) == "tls://[::1]:9"
    assert str(parse_address("wss://h/lsp")) == "wss://h/lsp"
