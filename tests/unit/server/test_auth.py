import pytest

from codequorum.server.auth import AuthError, is_loopback, read_token, required_token, token_matches


def test_loopback_addresses_and_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def test_a_network_address_without_a_token_file_is_refused_with_the_fix():
    with pytest.raises(AuthError, match="--token-file"):
        required_token("0.0.0.0", None)


def test_loopback_needs_no_token_but_accepts_one(tmp_path):
    assert required_token("127.0.0.1", None) is None
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    assert required_token("127.0.0.1", token_file) == "s3cret-token"
    assert required_token("0.0.0.0", token_file) == "s3cret-token"


def test_an_empty_or_missing_token_file_is_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(AuthError, match="is empty"):
        read_token(empty)
    with pytest.raises(AuthError, match="cannot read"):
        read_token(tmp_path / "missing")


def test_token_matching():
    assert token_matches(None, None)
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd") and not token_matches("abc", None)
    assert not token_matches("abc", 123)
