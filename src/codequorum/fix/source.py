"""A source file's text as Python reads it, and its bytes back in the same encoding and line endings.

`fix` works on text with `\n` line endings; the file keeps what it had: CRLF stays CRLF, a file
declaring `# -*- coding: latin-1 -*-` stays latin-1, a UTF-8 byte order mark stays. A file that
is not valid in its encoding, or a fix its encoding cannot hold, is refused with what to do.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from codequorum.vocabulary.errors import CodequorumError


@dataclass(frozen=True)
class SourceFormat:
    encoding: str = "utf-8"  # as `tokenize.detect_encoding` names it: "utf-8-sig" keeps a BOM
    newline: str = "\n"

    def encode(self, text: str, shown: str) -> bytes:
        """`text` (with `\n` line endings) as this file's bytes."""
        native = text.replace("\n", self.newline) if self.newline != "\n" else text
        try:
            return native.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise CodequorumError(
                f"the new text of {shown} has {error.object[error.start:error.end]!r}, which its "
                f"encoding ({self.encoding}) cannot hold; nothing was written"
            ) from None


def decode_source(data: bytes, shown: str) -> tuple[str, SourceFormat]:
    """(text with `\n` line endings, how to write it back), or a refusal saying what to do."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise CodequorumError(
            f"{shown} is not valid text in the encoding it declares ({error}); declare it with a "
            "`# -*- coding: <encoding> -*-` first line or convert it to UTF-8"
        ) from None
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text else "\n"
    if encoding == "utf-8-sig":
        text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n"), SourceFormat(encoding, newline)
