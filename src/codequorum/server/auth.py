"""Who may talk to a network-bound server: named tokens, checked at `initialize`.

Each token belongs to a principal (a user or a team): `--tokens-file` holds one line per
principal, and the single `--token-file` of a shared secret is the principal "default". A
connection that presents a token is that principal for its whole life: feedback is recorded
under its name and rate limits are counted per name (server/user_limits.py).

Loopback needs no token (only this machine can connect); any other address does, and the
server refuses to start without one rather than serve models and code to the network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codequorum.vocabulary.errors import CodequorumError

log = logging.getLogger(__name__)

DEFAULT_PRINCIPAL = "default"  # the owner of the single --token-file
MIN_SECRET_CHARS = 16  # in a tokens file: shorter ones are guessable
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
_SHA256 = re.compile(r"sha256:([0-9a-fA-F]{64})")
_NEW_TOKEN = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class AuthError(CodequorumError):
    """The server cannot start with these network settings."""


@dataclass(frozen=True)
class Credential:
    """One principal's token, kept as its SHA-256 (a tokens file may hold only the digest)."""

    name: str
    digest: bytes  # sha256 of the token
    secret: str | None = None  # the token itself, when the file holds it: redacted from the log


def digest_of(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenBook:
    """The tokens a server accepts, each naming its principal."""

    def __init__(self, credentials: Sequence[Credential]) -> None:
        if not credentials:
            raise AuthError("no tokens: a tokens file needs at least one `NAME = TOKEN` line")
        self.credentials = tuple(credentials)

    @classmethod
    def single(cls, token: str, name: str = DEFAULT_PRINCIPAL) -> TokenBook:
        return cls([Credential(name, digest_of(token), token)])

    def authenticate(self, presented: object) -> str | None:
        """The principal whose token `presented` is, or None. Every entry is compared, in
        constant time, on fixed-length digests: the time taken tells neither the token's length
        nor which entry matched."""
        if not isinstance(presented, str):
            return None
        digest = digest_of(presented)
        found: str | None = None
        for credential in self.credentials:
            if hmac.compare_digest(credential.digest, digest) and found is None:
                found = credential.name
        return found

    def names(self) -> list[str]:
        return [credential.name for credential in self.credentials]

    def secrets(self) -> list[str]:
        """The plain tokens known to the server (never to be logged)."""
        return [c.secret for c in self.credentials if c.secret is not None]

    def __add__(self, other: TokenBook) -> TokenBook:
        return TokenBook(_unique([*self.credentials, *other.credentials], "the token files"))


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
    token = _read(path, "token file")
    if not token.strip():
        raise AuthError(f"the token file {path} is empty: put a long random string in it, "
                        f"e.g. `{_NEW_TOKEN} > FILE`")
    if _readable_by_others(path):
        log.warning("the token file %s is readable by other users: chmod 600 %s", path, path)
    return token.strip()


def read_tokens_file(path: Path) -> TokenBook:
    """`NAME = TOKEN` or `NAME = sha256:HEX` per line (`#` starts a comment). The file must be
    readable by its owner only: it is every user's password."""
    text = _read(path, "tokens file")
    if _readable_by_others(path):
        raise AuthError(f"the tokens file {path} is readable by other users (mode "
                        f"{stat.S_IMODE(path.stat().st_mode):03o}): run `chmod 600 {path}`")
    credentials = [_credential(line, path, number)
                   for number, line in enumerate(text.splitlines(), 1)
                   if line.strip() and not line.lstrip().startswith("#")]
    if not credentials:
        raise AuthError(f"the tokens file {path} has no `NAME = TOKEN` line")
    return TokenBook(_unique(credentials, str(path)))


def required_tokens(host: str, token_file: Path | None, tokens_file: Path | None) -> TokenBook | None:
    """The tokens clients must present, or None; refuses a non-loopback bind without any."""
    books = ([TokenBook.single(read_token(token_file))] if token_file is not None else []) + \
            ([read_tokens_file(tokens_file)] if tokens_file is not None else [])
    if books:
        return sum(books[1:], books[0])
    if not is_loopback(host):
        raise AuthError(
            f"refusing to serve on {host}: it is reachable from other machines, so clients must "
            "authenticate. Start with --tokens-file FILE (one `NAME = TOKEN` line per user) or "
            "--token-file FILE (one shared token); clients send their token as "
            "initializationOptions.token. Or bind to 127.0.0.1."
        )
    return None


def _credential(line: str, path: Path, number: int) -> Credential:
    where = f"{path}:{number}"
    name, equals, value = (part.strip() for part in line.partition("="))
    if not equals or not value:
        raise AuthError(f"{where}: expected `NAME = TOKEN` or `NAME = sha256:HEX`")
    if not _NAME.fullmatch(name):
        raise AuthError(f"{where}: {name!r} is not a user name (letters, digits and _.@+-, "
                        "at most 64 characters)")
    if hashed := _SHA256.fullmatch(value):
        return Credential(name, bytes.fromhex(hashed.group(1)))
    if value.startswith("sha256:"):
        raise AuthError(f"{where}: sha256: must be followed by 64 hex digits "
                        "(`printf %s TOKEN | sha256sum`)")
    if len(value) < MIN_SECRET_CHARS:
        raise AuthError(f"{where}: the token of {name} is shorter than {MIN_SECRET_CHARS} "
                        f"characters, easy to guess: make one with `{_NEW_TOKEN}`")
    return Credential(name, digest_of(value), value)


def _unique(credentials: Sequence[Credential], where: str) -> list[Credential]:
    seen_names: set[str] = set()
    seen_digests: set[bytes] = set()
    for credential in credentials:
        if credential.name in seen_names:
            raise AuthError(f"{where}: {credential.name} is named twice")
        if credential.digest in seen_digests:
            raise AuthError(f"{where}: {credential.name} has the same token as another user")
        seen_names.add(credential.name)
        seen_digests.add(credential.digest)
    return list(credentials)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuthError(f"cannot read the {what} {path}: {error}") from error


def _readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
