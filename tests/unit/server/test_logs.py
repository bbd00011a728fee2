import logging
import sys

from pygls.exceptions import JsonRpcServerError

from codequorum.server.logs import REDACTED, QuietProtocolErrors, RedactTokens


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("pygls", logging.INFO, __file__, 1, message, args or None, exc_info)


def test_every_token_field_and_the_servers_token_are_redacted():
    redact = RedactTokens("the-secret")
    cases = {
        "InitializeParams(initialization_options={'token': 'a-wrong-one'})": "a-wrong-one",
        '{"initializationOptions": {"token": "json-token"}}': "json-token",
        "Options(token='attrs-token', x=1)": "attrs-token",
        "read the-secret from a file": "the-secret",
    }
    for message, secret in cases.items():
        entry = record(message)
        assert redact.filter(entry)
        assert secret not in entry.getMessage() and REDACTED in entry.getMessage()


def test_arguments_are_redacted_too_and_other_records_are_left_alone():
    entry = record("params %s", {"token": "in-args"})
    RedactTokens(None).filter(entry)
    assert "in-args" not in entry.getMessage()
    plain = record("nothing secret %d", 3)
    RedactTokens("s3").filter(plain)
    assert plain.getMessage() == "nothing secret 3" and plain.args == (3,)


def test_a_protocol_error_raised_on_purpose_loses_its_traceback_not_its_message():
    try:
        raise JsonRpcServerError("wrong token", -32001)
    except JsonRpcServerError:
        entry = record("Exception occurred for message %s", "1", exc_info=sys.exc_info())
    QuietProtocolErrors().filter(entry)
    assert entry.exc_info is None and entry.getMessage() == "Exception occurred for message 1: wrong token"
    try:
        raise RuntimeError("a real bug")
    except RuntimeError:
        bug = record("crash", exc_info=sys.exc_info())
    QuietProtocolErrors().filter(bug)
    assert bug.exc_info is not None  # real failures keep their traceback
