"""The spinner while members work: on a terminal's stderr only, naming the limit to raise."""

from __future__ import annotations

import io

from rich.console import Console

from codequorum.cli.progress import time_limit_setting, working
from codequorum.config import settings_from_dict


def test_on_a_terminal_the_spinner_names_the_strategy_members_and_limit():
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=200)
    settings = settings_from_dict({}, source="t")
    with working("cascade", ["qwen-large", "qwen-small"], settings, terminal):
        pass
    shown = out.getvalue()
    assert "cascade over qwen-large, qwen-small: the members are working" in shown
    key, _ = time_limit_setting(settings)
    assert key in shown


def test_off_a_terminal_nothing_is_printed():
    out = io.StringIO()
    with working("cascade", None, settings_from_dict({}, source="t"), Console(file=out, force_terminal=False)):
        pass
    assert out.getvalue() == ""


def test_the_limit_named_is_the_hard_cap_where_the_engine_has_one():
    settings = settings_from_dict({"engine": {"deadline_s": 30}}, source="t")
    key, value = time_limit_setting(settings)
    if "hard_cap_s" in type(settings.engine).model_fields:
        assert key == "[engine] hard_cap_s"
    else:
        assert (key, value) == ("[engine] deadline_s", "30 s")
