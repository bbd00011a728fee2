"""An internal error reaches the client as one line; its details stay in the server's log.

pygls answers a handler's unexpected exception with `JsonRpcInternalError.of(exc_info)`: the
exception's text as the message and the traceback as `data`, sent to whoever asked, before the
token check included. Tracebacks name files, versions and code paths: an attacker's map. The
client gets a reference it can quote; the log has the reference with the details.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

INTERNAL_ERROR = -32603


def reference() -> str:
    return uuid.uuid4().hex[:10]


def internal_error_line(ref: str) -> str:
    return f"codequorum: internal error (reference {ref}): the server's log has the details"


def safe_for_client(error: types.ResponseError, about: Any) -> types.ResponseError:
    """`error` as the client may see it: an internal error becomes one line with a reference
    (its message and traceback logged under it); other errors keep their message, never data."""
    if error.code != INTERNAL_ERROR:
        return types.ResponseError(code=error.code, message=_first_lines(error.message))
    ref = reference()
    log.error("internal error %s answering request %s: %s%s", ref, about, error.message,
              _traceback_text(error.data))
    return types.ResponseError(code=INTERNAL_ERROR, message=internal_error_line(ref))


def _first_lines(message: str) -> str:
    """Our own messages are short; a message holding a traceback is cut before it."""
    cut = message.find("Traceback (most recent call last)")
    return message[:cut].rstrip() if cut >= 0 else message


def _traceback_text(data: Any) -> str:
    frames = data.get("traceback") if isinstance(data, dict) else None
    if isinstance(frames, list):
        return "\nTraceback (most recent call last):\n" + "".join(str(frame) for frame in frames)
    return ""
