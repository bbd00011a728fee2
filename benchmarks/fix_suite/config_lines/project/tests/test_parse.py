from settings.parse import load


def test_keys_and_values():
    assert load("name = demo\n# a comment\n\nport = 8080\n") == {"name": "demo", "port": "8080"}


def test_a_value_may_hold_an_equals_sign():
    assert load("query = a=1&b=2\n") == {"query": "a=1&b=2"}
