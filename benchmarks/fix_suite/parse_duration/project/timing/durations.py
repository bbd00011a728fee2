"""Durations as people type them: "1h30m", "45s", "2h"."""

UNITS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text):
    """Seconds in a duration like "1h30m", "45s" or "2h"; ValueError for anything else."""
    total, number = 0, ""
    for char in text.strip():
        if char.isdigit():
            number += char
        elif char in UNITS and number:
            total += int(number) * UNITS[char]
        else:
            raise ValueError(f"bad duration: {text!r}")
    if not text.strip():
        raise ValueError(f"bad duration: {text!r}")
    return total
