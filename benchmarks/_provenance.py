"""The lines every benchmark prints first: the machine, its load and the exact command."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def print_provenance() -> None:
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
