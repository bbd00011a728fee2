"""What the server writes to its log: never a token, and no traceback for a refusal it meant.

pygls logs the `initialize` params (the client's options, token included) at INFO, and the
traceback of any exception a handler raises, even the protocol errors we raise on purpose
(a wrong token, an unknown document). The filters sit on the root logger's handlers, so they
see every record whatever logger it comes from.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from pygls.exceptions import JsonRpcException

# A `token` key with a quoted value, as JSON ("token": "…"), a dict repr ('token': '…') or an
# attrs repr (token='…') shows it: pygls logs the initialize params, options included.
_TOKEN_FIELD = re.compile(r"""(['"]?token['"]?\s*[:=]\s*)(['"])(?:\\.|(?!\2).)*\2""")
REDACTED = "<redacted>"


class RedactTokens(logging.Filter):
    """Takes tokens out of log records before any handler writes them: the value of every
    `token` field (a client's wrong token too), and the server's own token wherever it is."""

    def __init__(self, secrets: str | Sequence[str] | None) -> None:
        super().__init__()
        given = [secrets] if isinstance(secrets, str) else list(secrets or ())
        self.secrets = [secret for secret in given if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_FIELD.sub(rf"\1\2{REDACTED}\2", message)
        for secret in self.secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True




class QuietProtocolErrors(logging.Filter):
    """A JSON-RPC error a handler raised on purpose is an answer, not a crash: its record keeps
    the message and loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, JsonRpcException):
            record.msg, record.args = f"{record.getMessage()}: {error}", None
            record.exc_info, record.exc_text = None, None
        return True


def install_log_filters(secrets: Sequence[str] = ()) -> None:
    """Put the filters on every handler of the root logger (the server's own tokens are
    redacted wherever they appear)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens(secrets))
        handler.addFilter(QuietProtocolErrors())
