"""Line breaks at the end of a block: the inserted lines fit between the text around them.

In front of existing code (only indentation before the cursor), the inserted lines end with
a line break and the indentation the cursor stood at, so the existing line keeps its place;
before a line break of the document, the snippet does not add another one; whole lines at
the end of the file keep theirs.
"""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CursorLine


def fit_line_breaks(text: str, prefix: str, suffix: str) -> str:
    cursor = CursorLine.of(prefix, suffix)
    body = text.rstrip()
    if not body.strip():
        return ""
    if cursor.before_code:
        return body + "\n" + cursor.before
    if cursor.after.strip():
        return text.rstrip(" \t")  # the rest of a line: keep what the snippet ends with
    if not suffix and not cursor.before and text.endswith("\n"):
        return body + "\n"  # whole lines at the end of the file end as lines do
    return body
