"""`codequorum feedback`: the store of what users did with suggestions (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from codequorum.cli.errors import user_errors

app = typer.Typer(help="The feedback store: move it between SQLite and PostgreSQL, see what it holds.",
                  no_args_is_help=True)
console = Console()


@app.command("migrate")
def migrate(
    source: str | None = typer.Option(
        None, "--from", help="The store to copy: a file path, sqlite:///PATH or postgresql://… "
        "(default: the language server's own SQLite file)."),
    target: str = typer.Option(
        ..., "--to", help="The store to copy into, e.g. postgresql://codequorum@db-1/codequorum."),
) -> None:
    """Copy every feedback event (and the router memory kept there) into another store.

    Events already in the target are left alone, so running it again copies nothing new.
    The source is never changed. Point the server's `feedback_db` at the target afterwards.
    """
    from codequorum.server.feedback_store import default_feedback_path
    from codequorum.stores.errors import StoreError
    from codequorum.stores.migrate import migrate as copy_store
    from codequorum.stores.open import open_store

    with user_errors():
        from_store = open_store(source or default_feedback_path())
        to_store = open_store(target)
        try:
            if from_store.location.kind == "sqlite" and not from_store.location.path.is_file():
                raise StoreError(f"no feedback store at {from_store.location}: give --from")
            done = copy_store(from_store, to_store)
        finally:
            from_store.close()
            to_store.close()
    console.print(f"{from_store.location} → {to_store.location}: {done.events_read} event(s) read, "
                  f"{done.events_added} new, {done.events_read - done.events_added} already there",
                  highlight=False, soft_wrap=True)
    if done.memory_version is None:
        console.print("no router memory in the source", highlight=False, soft_wrap=True)
    elif done.memory_entries is None:
        console.print("the router memory is there already", highlight=False, soft_wrap=True)
    else:
        console.print(f"router memory copied: {done.memory_entries} past request(s)", highlight=False, soft_wrap=True)


@app.command("stats")
def stats(
    store_at: str | None = typer.Option(
        None, "--db", help="The store (default: the configuration's server feedback_db)."),
    config: Path | None = typer.Option(None, "--config", help="Configuration file."),
    by_user: bool = typer.Option(False, "--by-user", help="One row per user (the token's name; "
                                 "\"-\" for events from clients without a token) instead of per member."),
) -> None:
    """Events per member (or user) and kind, and whether a router memory is kept there."""
    from codequorum.config import load_settings
    from codequorum.server.feedback_store import default_feedback_path
    from codequorum.stores.open import open_store

    with user_errors():
        where = store_at or load_settings(config).server.feedback_db or default_feedback_path()
        store = open_store(where)
        try:
            counts = Counter(((r.user_name or "-") if by_user else r.member, r.event) for r in store.records())
            version = store.memory_version()
        finally:
            store.close()
    events = ("shown", "accepted", "accepted_partial", "dismissed")
    table = Table("user" if by_user else "member", "shown", "accepted", "partial accepts", "dismissed",
                  title=f"feedback in {store.location}")
    for key in sorted({k for k, _ in counts}):
        table.add_row(key, *(str(counts[key, e]) for e in events))
    console.print(table)
    console.print(f"router memory: version {version}" if version else "router memory: none",
                  highlight=False, soft_wrap=True)
