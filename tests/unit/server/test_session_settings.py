"""Settings with a bad strategy table are refused whole: the session keeps the old settings and
the old engine."""

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.engine import Engine
from codequorum.server.engines import EnginePool
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from codequorum.vocabulary.errors import ConfigError
from tests.unit.doubles import scripted_registry

MEMBERS = {"include_default_members": False, "server": {"feedback": False},
           "members": {"a": {"backend": "scripted", "options": {"replies": ["x"]}}}}


async def test_a_misspelt_strategy_option_keeps_the_previous_settings():
    pool = EnginePool(factory=lambda settings: Engine(settings, scripted_registry()))
    session = Session(ServerContext(SettingsSource(MEMBERS, "test"), engines=pool))
    engine = session.engine
    before = session.settings
    with pytest.raises(ConfigError, match="cascade: unknown option 'treshold'"):
        session.configure(settings_from_dict({**MEMBERS, "strategies": {"cascade": {"treshold": 0.5}}}, "bad"))
    assert session.settings is before and session.engine is engine
    session.configure(settings_from_dict({**MEMBERS, "strategies": {"cascade": {"threshold": 0.5}}}, "good"))
    assert session.settings.strategies == {"cascade": {"threshold": 0.5}} and session.engine is not engine
    await session.aclose()
