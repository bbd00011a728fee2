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
