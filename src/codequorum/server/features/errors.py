"""Turn the user-facing errors of the logic modules into JSON-RPC errors for the client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from pygls.exceptions import JsonRpcInvalidParams

from codequorum.server.documents import DocumentError
from codequorum.server.instructions import InstructionError
from codequorum.vocabulary.errors import CodequorumError


class ArgumentsError(ValueError):
    """A command was sent the wrong arguments."""


@contextmanager
def client_errors() -> Iterator[None]:
    try:
        yield
    except (ArgumentsError, DocumentError, InstructionError, CodequorumError) as error:
        raise JsonRpcInvalidParams(message=str(error)) from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}"
                             for e in error.errors())
        raise JsonRpcInvalidParams(message=f"invalid arguments: {problems}") from error
