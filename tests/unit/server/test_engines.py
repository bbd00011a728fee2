from codequorum.server.engines import EnginePool
from tests.unit.doubles import scripted_settings


class Closing:
    def __init__(self, settings):
        self.settings = settings
        self.closed = False

    async def aclose(self):
        self.closed = True


async def test_sessions_with_the_same_engine_settings_share_one_engine():
    pool = EnginePool(Closing)
    base = scripted_settings({"a": {}})
    other_server_section = scripted_settings({"a": {}}, server={"debounce_ms": 1})
    first, second = pool.acquire(base), pool.acquire(other_server_section)
    assert first is second
    third = pool.acquire(scripted_settings({"a": {}, "b": {}}))
    assert third is not first


async def test_an_engine_is_closed_when_its_last_session_releases_it():
    pool = EnginePool(Closing)
    settings = scripted_settings({"a": {}})
    engine = pool.acquire(settings)
    pool.acquire(settings)
    await pool.release(engine)
    assert not engine.closed
    await pool.release(engine)
    assert engine.closed
    assert pool.acquire(settings) is not engine

