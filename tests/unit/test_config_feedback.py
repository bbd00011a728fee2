"""The feedback settings: where the store is (checked at load), what it keeps, for how long."""

from __future__ import annotations

from pathlib import Path

import pytest

from codequorum.config import ServerConfig, settings_from_dict
from codequorum.vocabulary.errors import ConfigError


@pytest.mark.parametrize("where", ["/var/lib/cq/feedback.sqlite3", "sqlite:///var/lib/cq/f.sqlite3",
                                   "postgresql://cq@db-1/codequorum"])
def test_a_store_is_a_path_or_a_url(where):
    assert settings_from_dict({"server": {"feedback_db": where}}, "t").server.feedback_db == where


def test_a_path_object_is_accepted():
    assert ServerConfig(feedback_db=Path("/tmp/f.sqlite3")).feedback_db == "/tmp/f.sqlite3"


def test_an_unsupported_store_is_an_error_at_load():
    with pytest.raises(ConfigError, match="server.feedback_db: mysql:// is not a supported store"):
        settings_from_dict({"server": {"feedback_db": "mysql://db-1/cq"}}, "t")


def test_text_is_kept_for_ninety_days_by_default():
    config = ServerConfig()
    assert config.feedback_keep_text is True and config.feedback_retention_days == 90


def test_a_retention_below_one_day_is_refused():
    with pytest.raises(ConfigError, match="feedback_retention_days"):
        settings_from_dict({"server": {"feedback_retention_days": 0}}, "t")
