"""A one-line progress indicator on a terminal's stderr (``embedding 512/2000``).

Written here rather than taken from tqdm: the serving install does not depend on it,
and a scan needs one redrawn line, not a progress-bar library.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

REDRAW_SECONDS = 0.1


class TerminalProgress:
    """Call as ``progress(stage, done, total)``; silent unless ``stream`` is a terminal."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (done < total and now - self._last_draw < REDRAW_SECONDS):
            return
        self._last_draw = now
        self.stream.write(f"\r\x1b[K{stage} {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clear the line, so that what is printed next starts on a clean one."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
