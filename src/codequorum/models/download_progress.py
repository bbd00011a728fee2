"""How many bytes of the pinned packages pip has downloaded so far, read from its output.

pip is run with `--progress-bar raw`: for each file over 512 kB it prints `Progress DONE of
TOTAL` lines as the bytes arrive (every 0.25 s, and at the end), and `Using cached NAME (SIZE)`
for a file its cache already holds. Smaller files show only `Downloading NAME (SIZE)`; they are
counted when the next file starts or pip ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)\s*$")
_SIZED = re.compile(r"^\s*(Downloading|Using cached) \S+ \(([\d.]+) (bytes|kB|MB|GB)\)\s*$")
_UNITS = {"bytes": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}


@dataclass
class PipDownloadProgress:
    finished: int = 0  # bytes of the files done
    current: int = 0  # bytes of the file arriving now
    _current_total: int | None = None  # its size, from its Progress lines
    _announced: int | None = None  # the size of a `Downloading` file not finished yet

    @property
    def done(self) -> int:
        return self.finished + self.current

    def feed(self, line: str) -> bool:
        """Take one line of pip's output; True when the byte count changed."""
        if match := _PROGRESS.match(line):
            current, total = int(match.group(1)), int(match.group(2))
            if self._current_total is not None and (total != self._current_total or current < self.current):
                self._close_file()
            self._announced = None
            self.current, self._current_total = current, total
            return True
        if match := _SIZED.match(line):
            size = round(float(match.group(2)) * _UNITS[match.group(3)])
            changed = self._close_file()
            if match.group(1) == "Using cached":
                self.finished += size
                return True
            self._announced = size
            return changed
        return False

    def end(self) -> None:
        """pip is done: every file it announced has arrived."""
        self._close_file()

    def _close_file(self) -> bool:
        closed = self._current_total or self._announced or 0
        if self._current_total is not None:
            self.finished += self._current_total
        elif self._announced is not None:
            self.finished += self._announced
        self.current, self._current_total, self._announced = 0, None, None
        return bool(closed)
