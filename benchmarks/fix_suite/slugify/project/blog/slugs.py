"""URL slugs from post titles."""

import re
import unicodedata


def _ascii(text):
    """`text` without accents, in ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _dashed(text):
    """Runs of anything but letters and digits as single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text)


def slugify(title):
    """A lowercase slug for a title: "Héllo, World!" -> "hello-world"."""
    return _dashed(_ascii(title).lower())
