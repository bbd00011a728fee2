"""`[server.languages.NAME] inline_members`: the members asked for one language's completions."""

from __future__ import annotations

import pytest

from codequorum.config import settings_from_dict
from codequorum.vocabulary.errors import ConfigError


def settings(**server):
    return settings_from_dict({"server": server}, "codequorum.toml")


def test_a_language_asks_its_own_members_and_the_others_the_servers():
    chosen = settings(inline_members=["qwen-small"], languages={"python": {"inline_members": ["qwen-large"]},
                                                               "go": {}})
    assert chosen.inline_members_for("python") == ["qwen-large"]
    assert chosen.inline_members_for("go") == ["qwen-small"]  # a table without a list
    assert chosen.inline_members_for("rust") == ["qwen-small"]
    assert chosen.inline_members_for(None) == ["qwen-small"]


def test_without_any_list_the_server_chooses():
    assert settings().inline_members_for("python") is None


def test_an_unknown_member_is_an_error_at_load():
    with pytest.raises(ConfigError, match="server.languages.python.inline_members names unknown member"
                                          r"\(s\) qwen-huge \(members: qwen-large, qwen-small, smollm2\)"):
        settings(languages={"python": {"inline_members": ["qwen-small", "qwen-huge"]}})


@pytest.mark.parametrize(("table", "error"), [
    ({"inline_members": []}, "at least 1 item"),
    ({"inline_member": ["qwen-small"]}, "unknown key"),
])
def test_a_bad_language_table_is_refused(table, error):
    with pytest.raises(ConfigError, match=error):
        settings(languages={"python": table})
