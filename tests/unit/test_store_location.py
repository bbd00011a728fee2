from pathlib import Path

import pytest

from codequorum.vocabulary.store_location import is_location, parse_location, without_password


@pytest.mark.parametrize(("text", "kind", "target"), [
    ("/var/lib/codequorum/feedback.sqlite3", "sqlite", "/var/lib/codequorum/feedback.sqlite3"),
    ("feedback.sqlite3", "sqlite", "feedback.sqlite3"),
    ("sqlite:///var/lib/feedback.sqlite3", "sqlite", "/var/lib/feedback.sqlite3"),
    ("sqlite://relative/feedback.sqlite3", "sqlite", "relative/feedback.sqlite3"),
    ("postgresql://cq@db-1:5432/codequorum", "postgresql", "postgresql://cq@db-1:5432/codequorum"),
    ("postgres://db-1/codequorum", "postgresql", "postgres://db-1/codequorum"),
])
def test_a_location_names_its_kind(text, kind, target):
    location = parse_location(text)
    assert (location.kind, location.target) == (kind, target)


def test_a_home_path_is_expanded():
    assert parse_location("~/feedback.sqlite3").path == Path.home() / "feedback.sqlite3"
    assert parse_location(Path("~/f.sqlite3")).path == Path.home() / "f.sqlite3"


@pytest.mark.parametrize("text", ["", "mysql://db/x", "sqlite://", "redis://localhost"])
def test_an_unsupported_location_says_what_is(text):
    with pytest.raises(ValueError, match="postgresql://"):
        parse_location(text)


def test_a_password_never_shows():
    url = "postgresql://cq:s3cret@db-1:5432/codequorum?sslmode=require"
    assert without_password(url) == "postgresql://cq:***@db-1:5432/codequorum?sslmode=require"
    assert "s3cret" not in str(parse_location(url))
    assert without_password("postgresql://db-1/codequorum") == "postgresql://db-1/codequorum"


def test_urls_are_told_from_paths():
    assert is_location("postgresql://db/x") and is_location("sqlite:///tmp/x")
    assert not is_location("/tmp/router-memory.jsonl") and not is_location("memory.jsonl")
