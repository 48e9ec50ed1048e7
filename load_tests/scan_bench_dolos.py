"""The Dolos side of the scan benchmark: Dolos 3.5.1 on the same files, timed, with its
Node process's peak memory, under a time and a heap limit.

Dolos's cost grows with N² (it keeps every pair's shared fingerprints), so at 10,000
programs it may not finish: the outcome then says how it ended ("did not finish in
600 s", "ran out of memory at 15.9 GB") instead of a time.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from clonedetect.evaluation import dolos
from clonedetect.load_tests.peak_memory import PeakSampler
from clonedetect.load_tests.processes import stop_process_group

OUT_OF_MEMORY_MARKERS = ("heap out of memory", "Reached heap limit", "Allocation failed")


def _outcome(returncode: int, stderr: str, peak_mb: float) -> str:
    if returncode == 0:
        return "finished"
    if any(marker in stderr for marker in OUT_OF_MEMORY_MARKERS) or returncode in (-9, 137):
        return f"ran out of memory at {peak_mb / 1024:.1f} GB"
    return f"failed (exit {returncode}): {stderr.strip()[-300:]}"


def _run(command: list[str], request: str, timeout_s: float) -> tuple[int | None, str, str, float, float]:
    """``command`` fed ``request``; (exit status or None when timed out, stdout, stderr,
    seconds, peak RSS in MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dolos.runner_environment(),
        start_new_session=True,  # its own group, stopped by PID on a timeout
    )
    with PeakSampler(process.pid) as memory:
        try:
            stdout, stderr = process.communicate(request, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_process_group(process, grace_s=5)
            process.communicate()
            return None, "", "", time.perf_counter() - started, memory.peak_mb
    return process.returncode, stdout, stderr, time.perf_counter() - started, memory.peak_mb


def measure_dolos(paths: list[Path], language: str, heap_mb: int, timeout_s: float) -> dict:
    """Dolos on ``paths`` at once, as the evaluation runs it, with Node's heap set to
    ``heap_mb``. Its time is the Node process's, from start to its last output (reading
    the pairs into matrices here is not counted)."""
    if not dolos.is_installed():
        return {"outcome": f"not run: Dolos is not installed ({dolos.INSTALL_HINT})"}
    request, count = dolos.runner_request(paths, language)
    returncode, stdout, stderr, seconds, peak_mb = _run(dolos.runner_command(heap_mb), request, timeout_s)
    figures = {
        "heap_limit_mb": heap_mb,
        "time_limit_s": timeout_s,
        "wall_s": round(seconds, 2),
        "peak_rss_mb": round(peak_mb, 1),
    }
    if returncode is None:
        return {**figures, "finished": False, "outcome": f"did not finish in {timeout_s:.0f} s"}
    outcome = _outcome(returncode, stderr, peak_mb)
    if returncode == 0:
        dolos.pairs_from_reply(stdout, count)  # raises unless every pair came back
        figures["pairs"] = count * (count - 1) // 2
    return {**figures, "finished": returncode == 0, "outcome": outcome}
