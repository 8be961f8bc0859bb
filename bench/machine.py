"""What a benchmark ran on, printed above its figures."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path


def machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} x {model}, {platform.system()} {platform.release()}"


def header() -> str:
    """The machine, Python and the load at the start: figures taken under load say so."""
    return f"{machine()}; Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}"
