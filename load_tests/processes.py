"""A server's process tree, as the benchmark, the load run and the load generator see it:
its CPU time and resident memory (the server process and every descendant, e.g.
tritonserver and its Python-backend stubs), and stopping it by process group."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def process_tree(pid: int) -> list:
    """``pid`` and all its descendants (psutil processes); empty when ``pid`` is gone."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def process_tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by the process trees of ``pids``."""
    import psutil

    total = 0.0
    for pid in pids:
        for process in process_tree(pid):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


def _process_label(process) -> str:
    try:
        cmdline = process.cmdline()
    except Exception:
        return process.name()
    name = Path(cmdline[0]).name if cmdline else process.name()
    if "triton_python_backend_stub" in name and len(cmdline) > 1:
        return f"python_backend_stub:{Path(cmdline[1]).parent.parent.name}"  # <model>/<version>/model.py
    if "per_request_server" in " ".join(cmdline):
        return "per_request_worker"
    return name


def process_tree_memory(pid: int) -> dict:
    """RSS of ``pid`` and all its descendants (e.g. tritonserver and its backend stubs)."""
    import psutil

    rows = []
    for process in process_tree(pid):
        try:
            rows.append(
                {
                    "pid": process.pid,
                    "process": _process_label(process),
                    "rss_mb": round(process.memory_info().rss / 2**20, 1),
                }
            )
        except psutil.NoSuchProcess:
            pass
    return {"total_rss_mb": round(sum(r["rss_mb"] for r in rows), 1), "processes": rows}


def process_tree_pss_mb(pid: int) -> float:
    """The proportional set size of ``pid`` and its descendants, in MB: their memory counted
    once. A plain sum of RSS counts every shared page once per process that maps it, such as
    the shared-memory pool through which tritonserver hands tensors to each Python-backend stub."""
    import psutil

    total = 0
    for process in process_tree(pid):
        try:
            total += process.memory_full_info().pss
        except psutil.NoSuchProcess:
            pass
    return round(total / 2**20, 1)


def stop_process_group(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM the child's process group, then SIGKILL it after ``grace_s`` (by PID, never by name)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue
