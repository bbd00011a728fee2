"""Where a store lives, named by one string: a file path or `sqlite:///path` (SQLite), or
`postgresql://…` (stores/ opens it; config.py checks it when the file loads).

A plain path stays an SQLite file, as `feedback_db` always was. `sqlite://` is followed by the
path itself: `sqlite:///var/lib/codequorum/feedback.sqlite3` is absolute, `sqlite://feedback.sqlite3`
relative. A PostgreSQL URL is handed to libpq unchanged, so its environment (PGPASSWORD,
~/.pgpass, PGSSLMODE) applies; passwords never appear in messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

StoreKind = Literal["sqlite", "postgresql"]
POSTGRESQL_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class StoreLocation:
    kind: StoreKind
    target: str  # the SQLite file's path, or the PostgreSQL connection URL

    @property
    def path(self) -> Path:
        """The SQLite file (an SQLite location only)."""
        assert self.kind == "sqlite", "a PostgreSQL store has no file"
        return Path(self.target)

    def __str__(self) -> str:
        return self.target if self.kind == "sqlite" else without_password(self.target)


def parse_location(text: str | Path) -> StoreLocation:
    """The store `text` names; ValueError says which forms are understood."""
    if isinstance(text, Path):
        return StoreLocation("sqlite", str(text.expanduser()))
    text = text.strip()
    scheme, separator, rest = text.partition("://")
    if not text or (separator and not rest):
        raise ValueError(f"{text!r} names no store: give a file path, sqlite:///PATH or postgresql://HOST/DATABASE")
    if not separator:
        return StoreLocation("sqlite", str(Path(text).expanduser()))
    if scheme.lower() == "sqlite":
        return StoreLocation("sqlite", str(Path(rest).expanduser()))
    if scheme.lower() in POSTGRESQL_SCHEMES:
        return StoreLocation("postgresql", text)
    raise ValueError(f"{scheme}:// is not a supported store: give a file path, sqlite:///PATH "
                     "or postgresql://HOST/DATABASE")


def is_location(text: str) -> bool:
    """Whether `text` is a store URL rather than a plain file path."""
    scheme = text.partition("://")[0].lower()
    return "://" in text and (scheme == "sqlite" or scheme in POSTGRESQL_SCHEMES)


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
