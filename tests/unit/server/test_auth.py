import hashlib
import os
import stat

import pytest

from codequorum.server.auth import (
    DEFAULT_PRINCIPAL,
    AuthError,
    TokenBook,
    is_loopback,
    read_token,
    read_tokens_file,
    required_tokens,
)

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-fedcba9876543210"


def private(path, text):
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_loopback_addresses_and_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def test_a_network_address_without_any_token_file_is_refused_with_the_fix():
    with pytest.raises(AuthError, match="--tokens-file FILE .* --token-file FILE"):
        required_tokens("0.0.0.0", None, None)


def test_loopback_needs_no_token_but_accepts_one(tmp_path):
    assert required_tokens("127.0.0.1", None, None) is None
    token_file = private(tmp_path / "token", "s3cret-token\n")
    book = required_tokens("127.0.0.1", token_file, None)
    assert book is not None and book.authenticate("s3cret-token") == DEFAULT_PRINCIPAL
    assert required_tokens("0.0.0.0", token_file, None).authenticate("s3cret-token") == DEFAULT_PRINCIPAL


def test_an_empty_or_missing_token_file_is_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(AuthError, match="is empty"):
        read_token(empty)
    with pytest.raises(AuthError, match="cannot read"):
        read_token(tmp_path / "missing")


def test_each_token_names_its_user_and_a_digest_stands_for_a_token(tmp_path):
    digest = hashlib.sha256(BOB.encode()).hexdigest()
    path = private(tmp_path / "tokens", f"# the team\nalice = {ALICE}\n\nbob = sha256:{digest}\n")
    book = read_tokens_file(path)
    assert book.names() == ["alice", "bob"]
    assert book.authenticate(ALICE) == "alice" and book.authenticate(BOB) == "bob"
    assert book.authenticate(digest) is None and book.authenticate(f"sha256:{digest}") is None
    assert book.authenticate(ALICE.upper()) is None and book.authenticate(ALICE + " ") is None
    assert book.authenticate(None) is None and book.authenticate(12345) is None
    assert book.secrets() == [ALICE]  # the log redacts what it can know


def test_the_single_token_and_a_tokens_file_together(tmp_path):
    book = required_tokens("0.0.0.0", private(tmp_path / "token", "shared-team-token\n"),
                           private(tmp_path / "tokens", f"alice = {ALICE}\n"))
    assert book.authenticate("shared-team-token") == DEFAULT_PRINCIPAL and book.authenticate(ALICE) == "alice"


def test_a_tokens_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"alice = {ALICE}\n")
    for mode in (0o640, 0o604, 0o660):
        os.chmod(path, mode)
        with pytest.raises(AuthError, match=f"readable by other users .*chmod 600 {path}"):
            read_tokens_file(path)
    os.chmod(path, stat.S_IRUSR)
    assert read_tokens_file(path).names() == ["alice"]


@pytest.mark.parametrize(("text", "problem"), [
    ("alice\n", "expected `NAME = TOKEN`"),
    ("alice =\n", "expected `NAME = TOKEN`"),
    (f"al ice = {ALICE}\n", "not a user name"),
    ("alice = short\n", "shorter than 16 characters"),
    ("alice = sha256:abc\n", "64 hex digits"),
    (f"alice = {ALICE}\nalice = {BOB}\n", "alice is named twice"),
    (f"alice = {ALICE}\nbob = {ALICE}\n", "bob has the same token as another user"),
    ("# nobody\n", "no `NAME = TOKEN` line"),
])
def test_a_bad_tokens_file_says_which_line_and_what_to_do(tmp_path, text, problem):
    with pytest.raises(AuthError, match=problem):
        read_tokens_file(private(tmp_path / "tokens", text))


def test_the_same_user_in_both_files_is_refused(tmp_path):
    with pytest.raises(AuthError, match="default is named twice"):
        required_tokens("127.0.0.1", private(tmp_path / "token", "shared-team-token\n"),
                        private(tmp_path / "tokens", f"default = {ALICE}\n"))


def test_single_book():
    book = TokenBook.single("abc")
    assert book.authenticate("abc") == DEFAULT_PRINCIPAL
    assert book.authenticate("abd") is None and book.authenticate(None) is None
