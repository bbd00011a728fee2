"""What only the PostgreSQL store does, against a real server on 127.0.0.1: a lost connection
is opened again, replicas that start together create the tables once, an unreachable server
is a clear error without the password."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest

from codequorum.stores.errors import StoreError
from codequorum.stores.open import open_store
from tests.unit.stores.records_double import record


def test_a_lost_connection_is_opened_again(postgresql):
    store = open_store(postgresql.fresh_url())
    store.add([record(at=1.0)])
    with psycopg.connect(postgresql.url(), autocommit=True) as admin:
        killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = 'codequorum'").fetchall()
    assert killed
    assert store.add([record(at=2.0)]) == 1
    assert len(list(store.records())) == 2
    store.close()


def test_replicas_starting_together_create_the_tables_once(postgresql):
    url = postgresql.fresh_url()
    stores = [open_store(url) for _ in range(4)]
    errors: list[BaseException] = []

    def start(store):
        try:
            store.add([record()])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(stores[0].records())) == 4
    for store in stores:
        store.close()


def test_an_unreachable_server_is_a_clear_error_without_the_password():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = open_store(f"postgresql://cq:hunter2@127.0.0.1:{port}/codequorum")
    started = time.monotonic()
    with pytest.raises(StoreError) as raised:
        list(store.records())
    message = str(raised.value)
    assert "hunter2" not in message and "cq:***@127.0.0.1" in message
    assert "is the server up" in message and time.monotonic() - started < 10


def test_a_wrong_password_is_a_clear_error(postgresql):
    url = postgresql.url().replace(postgresql.password, "wrong")
    with pytest.raises(StoreError, match="password authentication failed"):
        open_store(url).add([record()])


def test_without_psycopg_the_error_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'codequorum\[postgresql\]'"):
        open_store("postgresql://db-1/codequorum")


# The table as the store created it before partial accepts (its CHECK named by PostgreSQL).
BEFORE_PARTIAL_TABLE = """CREATE TABLE feedback (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
    suggestion_id TEXT NOT NULL, event TEXT NOT NULL CHECK (event IN ('shown', 'accepted', 'dismissed')),
    kind TEXT NOT NULL, member TEXT NOT NULL, strategy TEXT NOT NULL, language TEXT, rank INTEGER NOT NULL,
    text TEXT NOT NULL, prefix_tail TEXT NOT NULL, prompt_prefix TEXT NOT NULL DEFAULT '',
    prompt_suffix TEXT NOT NULL DEFAULT '', suggested_at DOUBLE PRECISION NOT NULL,
    event_at DOUBLE PRECISION NOT NULL)"""


def test_a_table_from_before_partial_accepts_takes_them_and_keeps_its_rows(postgresql):
    url = postgresql.fresh_url()
    old = record("accepted", at=1.0)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(BEFORE_PARTIAL_TABLE)
        admin.execute("INSERT INTO feedback (event_id, suggestion_id, event, kind, member, strategy, language, rank,"
                      " text, prefix_tail, suggested_at, event_at) VALUES (%s, %s, 'accepted', 'inline', %s, %s,"
                      " %s, 0, %s, %s, %s, %s)", (old.event_id, old.suggestion_id, old.member, old.strategy,
                                                  old.language, old.text, old.prefix_tail, old.suggested_at,
                                                  old.event_at))
    store = open_store(url)
    partial = record("accepted_partial", at=2.0, accepted_chars=5)
    assert store.add([partial]) == 1
    [kept, added] = store.records()
    assert (kept.event_id, kept.event, kept.accepted_chars) == (old.event_id, "accepted", None)
    assert added == partial
    store.close()
    again = open_store(url)  # the upgrade is done once: opening again changes nothing
    assert len(list(again.records())) == 2
    again.close()
    with psycopg.connect(url, autocommit=True) as admin:
        checks = admin.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'feedback'::regclass "
                               "AND contype = 'c'").fetchall()
        assert checks == [("feedback_event_check",)]
        with pytest.raises(psycopg.errors.CheckViolation):
            admin.execute("INSERT INTO feedback (event_id, suggestion_id, event, kind, member, strategy, rank, text,"
                          " prefix_tail, suggested_at, event_at) VALUES ('x', 'x', 'liked', 'inline', 'm', 's',"
                          " 0, 't', 'p', 1.0, 1.0)")
