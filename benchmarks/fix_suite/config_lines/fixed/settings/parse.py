"""A small `key = value` settings format, with # comments."""


def _parse_line(line):
    """(key, value) of one `key = value` line, both stripped."""
    key, value = line.split("=", 1)
    return key.strip(), value.strip()


def load(text):
    """The settings in `text`: blank lines and # comments are skipped."""
    settings = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = _parse_line(line)
            settings[key] = value
    return settings
