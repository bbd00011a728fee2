"""`codequorum connect` between a client on its stdin/stdout and a real `codequorum serve` on
127.0.0.1, over tcp://, tls://, ws:// and wss://, with named tokens and a throwaway certificate;
the only member is a fake OpenAI-compatible one on loopback (no model). Also: a wrong token, an
untrusted certificate, a host name the certificate does not name, tcp:// to a TLS server, and a
server that goes away in the middle."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import CODEQUORUM, RunningServer, start_process
from tests.security.fake_members import FakeMember, says
from tests.security.tls_certs import Certificate, self_signed

pytestmark = pytest.mark.e2e

ALICE = f"alice-{uuid.uuid4().hex}"
SOURCE = "def add(a, b):\n    return "
URI = "file:///work/bridged.py"


@pytest.fixture(scope="module")
def member() -> Iterator[FakeMember]:
    fake = FakeMember(says("a + b")).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


def server_files(folder: Path, member: FakeMember) -> tuple[Path, Path]:
    config = folder / "codequorum.toml"
    config.write_text(
        "include_default_members = false\n"
        f"[members.fake]\nbackend = \"openai\"\nbase_url = \"{member.base_url}\"\nmodel = \"x\"\nfim = \"qwen\"\n"
        f"[server]\nwarm_up = false\ndebounce_ms = 0\nfeedback_db = \"{folder / 'feedback.sqlite3'}\"\n")
    tokens = folder / "tokens"
    tokens.write_text(f"alice = {ALICE}\n")
    tokens.chmod(0o600)
    return config, tokens


def serve(folder: Path, member: FakeMember, transport: str, certificate: Certificate | None) -> RunningServer:
    config, tokens = server_files(folder, member)
    tls = ["--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key)] if certificate else []
    return start_process([CODEQUORUM, "serve", f"--{transport}", "127.0.0.1:0", "--config", str(config),
                          "--tokens-file", str(tokens), *tls], token=ALICE)


class Bridge:
    """`codequorum connect ADDRESS ARGS` with the LSP stream on its stdin/stdout."""

    def __init__(self, address: str, *args: str, token: str | None = ALICE) -> None:
        env = {key: value for key, value in os.environ.items() if key != "CODEQUORUM_TOKEN"}
        if token is not None:
            env["CODEQUORUM_TOKEN"] = token
        self.process = subprocess.Popen([CODEQUORUM, "connect", address, *args], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = None
        while (line := self.process.stdout.readline()) not in (b"\r\n", b"\n"):
            if not line:
                raise ConnectionError(f"the bridge closed stdout: {self.finish()}")
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        assert length is not None
        return json.loads(self.process.stdout.read(length))

    def request(self, msg_id: int, method: str, params: Any) -> dict[str, Any]:
        self.send({"id": msg_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == msg_id and "method" not in message:
                return message

    def finish(self, timeout: float = 15) -> tuple[int, str]:
        """Its exit status and stderr, once it has exited by itself."""
        try:
            self.process.wait(timeout=timeout)  # stdin left open: the bridge must end by itself
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the bridge did not exit by itself") from None
        assert self.process.stderr is not None
        return self.process.returncode, self.process.stderr.read().decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def initialize(bridge: Bridge, options: dict[str, Any] | None = None) -> dict[str, Any]:
    return bridge.request(1, "initialize", {"processId": None, "capabilities": {},
                                            "initializationOptions": options})


def address_of(server: RunningServer, scheme: str, host: str = "127.0.0.1") -> str:
    return f"{scheme}://{host}:{server.port}" + ("/" if scheme.startswith("ws") else "")


TRANSPORTS = {"tcp": ("tcp", False), "tls": ("tcp", True), "ws": ("ws", False), "wss": ("ws", True)}


@pytest.mark.parametrize("scheme", list(TRANSPORTS))
def test_a_session_through_the_bridge(tmp_path, member, certificate, scheme):
    transport, secure = TRANSPORTS[scheme]
    server = serve(tmp_path, member, transport, certificate if secure else None)
    ca = ["--ca-file", str(certificate.cert)] if secure else []
    bridge = Bridge(address_of(server, scheme), *ca)
    try:
        # The editor's own options reach the server beside the token the bridge adds.
        reply = initialize(bridge, {"server": {"alternatives": 1}})
        assert reply["result"]["serverInfo"]["name"] == "codequorum", reply
        bridge.send({"method": "initialized", "params": {}})
        bridge.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": URI, "languageId": "python", "version": 1, "text": SOURCE}}})
        reply = bridge.request(2, "textDocument/inlineCompletion", {
            "textDocument": {"uri": URI}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}})
        assert [item["insertText"] for item in reply["result"]["items"]] == ["a + b"], reply
        assert bridge.request(3, "shutdown", None)["result"] is None
        bridge.send({"method": "exit"})
        assert bridge.finish() == (0, "")  # the server closing after `exit` is the normal end
        assert any(f"serving LSP on {scheme}://" in line for line in server.log), server.tail()
    finally:
        bridge.kill()
        server.stop()


@pytest.mark.parametrize("scheme", ["tls", "wss"])
def test_a_wrong_token_is_told_in_one_line_and_never_printed(tmp_path, member, certificate, scheme):
    wrong = f"mallory-{uuid.uuid4().hex}"
    server = serve(tmp_path, member, TRANSPORTS[scheme][0], certificate)
    bridge = Bridge(address_of(server, scheme), "--ca-file", str(certificate.cert), token=wrong)
    try:
        reply = initialize(bridge)
        assert reply["error"]["code"] == -32001, reply  # the editor gets the server's answer too
        code, stderr = bridge.finish()
        assert code == 3 and "refused the token" in stderr and "wrong token" in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1 and wrong not in stderr and "Traceback" not in stderr
    finally:
        bridge.kill()
        server.stop()


def test_a_token_file_is_read_when_the_variable_is_unset(tmp_path, member, certificate):
    server = serve(tmp_path, member, "tcp", certificate)
    token_file = tmp_path / "my-token"
    token_file.write_text(ALICE + "\n")
    token_file.chmod(0o600)
    bridge = Bridge(address_of(server, "tls"), "--ca-file", str(certificate.cert), "--token-env",
                    "CODEQUORUM_TEST_UNSET", "--token-file", str(token_file), token=None)
    try:
        assert initialize(bridge)["result"]["serverInfo"]["name"] == "codequorum"
        bridge.process.stdin.close()  # the editor goes: the bridge ends quietly
        assert bridge.finish() == (0, "")
    finally:
        bridge.kill()
        server.stop()


@pytest.mark.parametrize("scheme", ["tls", "wss"])
def test_an_untrusted_certificate_is_refused(tmp_path, member, certificate, scheme):
    server = serve(tmp_path, member, TRANSPORTS[scheme][0], certificate)
    other = self_signed(tmp_path, "other")
    cases = {"system CAs": [], "another CA": ["--ca-file", str(other.cert)]}
    try:
        for case, ca in cases.items():
            bridge = Bridge(address_of(server, scheme), *ca)
            code, stderr = bridge.finish()
            assert code == 1 and "is not trusted" in stderr and "--ca-file" in stderr, (case, stderr)
            assert "Traceback" not in stderr and ALICE not in stderr, stderr
        assert server.process.poll() is None, server.tail()
    finally:
        server.stop()


def test_a_host_name_the_certificate_does_not_name_is_refused(tmp_path, member, certificate):
    server = serve(tmp_path, member, "tcp", certificate)  # the certificate names 127.0.0.1 only
    try:
        bridge = Bridge(address_of(server, "tls", host="localhost"), "--ca-file", str(certificate.cert))
        code, stderr = bridge.finish()
        assert code == 1 and "not trusted" in stderr and "mismatch" in stderr.lower(), stderr
    finally:
        server.stop()


def test_plain_tcp_to_a_tls_server_says_what_to_use(tmp_path, member, certificate):
    server = serve(tmp_path, member, "tcp", certificate)
    bridge = Bridge(address_of(server, "tcp"))
    try:
        bridge.send({"id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
        code, stderr = bridge.finish(timeout=30)
        assert code == 1 and "before answering" in stderr and "tls://" in stderr, stderr
    finally:
        bridge.kill()
        server.stop()


@pytest.mark.parametrize("scheme", ["tls", "ws"])
def test_the_bridge_exits_when_the_server_goes_away(tmp_path, member, certificate, scheme):
    transport, secure = TRANSPORTS[scheme]
    server = serve(tmp_path, member, transport, certificate if secure else None)
    ca = ["--ca-file", str(certificate.cert)] if secure else []
    bridge = Bridge(address_of(server, scheme), *ca)
    try:
        assert "result" in initialize(bridge)
        server.stop()
        started = time.monotonic()
        code, stderr = bridge.finish()
        assert code == 1 and "closed the connection" in stderr and "Traceback" not in stderr, stderr
        assert time.monotonic() - started < 10
    finally:
        bridge.kill()
        server.stop()
