"""Peak resident memory of a process tree, sampled while it runs.

A benchmark needs the peak of processes it does not run itself (tritonserver and its
Python-backend stubs, Dolos's Node process): their memory is sampled a few times a
second in a thread. The benchmark's own process reads its exact peak from the kernel.
"""

from __future__ import annotations

import threading

from clonedetect.load_tests.processes import process_tree_memory

SAMPLE_SECONDS = 0.2


class PeakSampler:
    """``with PeakSampler(pid) as peak: ...``; then ``peak.peak_mb``: the highest summed RSS
    of ``pid`` and its descendants seen (a peak shorter than a sample can be missed);
    ``peak.by_process``: the highest RSS seen of each process label (e.g. one Triton stub)."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS):
        self.pid, self.interval = pid, interval
        self.peak_mb = 0.0
        self.by_process: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            memory = process_tree_memory(self.pid)
            self.peak_mb = max(self.peak_mb, memory["total_rss_mb"])
            for row in memory["processes"]:
                self.by_process[row["process"]] = max(self.by_process.get(row["process"], 0.0), row["rss_mb"])
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
