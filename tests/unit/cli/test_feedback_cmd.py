"""`codequorum feedback migrate` and `stats`, between two SQLite stores (the PostgreSQL side of
the same code runs in tests/unit/stores and tests/e2e/test_feedback_postgresql.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from codequorum.cli.app import app
from codequorum.routing.entry import Entry
from codequorum.stores.open import open_store
from tests.unit.stores.records_double import record


def run(*args: str):
    return CliRunner().invoke(app, ["feedback", *args])


def test_migrate_copies_once_and_says_what_it_did(tmp_path):
    source = open_store(tmp_path / "old.sqlite3")
    source.add([record("shown", at=1.0), record("accepted_partial", at=2.0, accepted_chars=5)])
    source.save_memory([Entry("t", "feedback", {"m": 1.0}, {}, [1.0])], version="v1")
    source.close()
    target = f"sqlite://{tmp_path / 'new.sqlite3'}"
    first = run("migrate", "--from", str(tmp_path / "old.sqlite3"), "--to", target)
    assert first.exit_code == 0, first.output
    assert "2 event(s) read, 2 new, 0 already there" in first.output
    assert "router memory copied: 1 past request(s)" in first.output
    again = run("migrate", "--from", str(tmp_path / "old.sqlite3"), "--to", target)
    assert "2 event(s) read, 0 new, 2 already there" in again.output
    assert "the router memory is there already" in again.output
    assert [(r.event, r.accepted_chars) for r in open_store(target).records()] == [
        ("shown", None), ("accepted_partial", 5)]


def test_a_missing_source_is_a_clear_error(tmp_path):
    done = run("migrate", "--from", str(tmp_path / "none.sqlite3"), "--to", f"sqlite://{tmp_path / 'x.sqlite3'}")
    assert done.exit_code == 2 and "no feedback store at" in done.output and "Traceback" not in done.output
    assert not (tmp_path / "x.sqlite3").exists()


def test_an_unsupported_target_is_a_clear_error(tmp_path):
    done = run("migrate", "--from", str(tmp_path / "none.sqlite3"), "--to", "mysql://db/x")
    assert done.exit_code == 2 and "mysql:// is not a supported store" in done.output


def test_stats_counts_events_per_member(tmp_path):
    store = open_store(tmp_path / "f.sqlite3")
    store.add([record("shown", member="a"), record("accepted", member="a"), record("dismissed", member="b"),
               record("accepted_partial", member="b", accepted_chars=3)])
    store.close()
    done = run("stats", "--db", str(tmp_path / "f.sqlite3"))
    assert done.exit_code == 0, done.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:6]]
            for line in done.output.splitlines() if line.count("│") == 6 and "member" not in line}
    assert rows == {"a": ["1", "1", "0", "0"], "b": ["0", "0", "1", "1"]}
    assert "router memory: none" in done.output


def test_stats_by_user(tmp_path):
    store = open_store(tmp_path / "f.sqlite3")
    store.add([record("shown", user_name="alice"), record("accepted", user_name="alice"),
               record("accepted", user_name="bob"), record("dismissed")])
    store.close()
    done = run("stats", "--db", str(tmp_path / "f.sqlite3"), "--by-user")
    assert done.exit_code == 0, done.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:6]]
            for line in done.output.splitlines() if line.count("│") == 6 and "user" not in line}
    assert rows == {"alice": ["1", "1", "0", "0"], "bob": ["0", "1", "0", "0"], "-": ["0", "0", "0", "1"]}
