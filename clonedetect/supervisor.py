"""``clonedetect serve`` keeps its tritonserver serving: it restarts the server when it
exits unexpectedly (a crash, ``kill -9``) on the same ports, a bounded number of times
with growing waits, and reloads a model whose Python-backend stub process died.

Why the stubs: Triton 2.51 does not restart a dead stub. The model stays ``READY`` (and
the server ready) while every request reaching it fails with "Stub process '<model>_0_0'
is not healthy", until the model is unloaded and loaded again (a load alone is a no-op
for a loaded model whose config is unchanged). So the supervisor records each stub (a
child of tritonserver whose command line names the model's ``model.py``) and, when one
has died while its model is still ``READY``, unloads and loads that model through the
server's own API, and removes the shared-memory region the
dead stub left in ``/dev/shm``. A model unloaded on purpose is not ``READY`` and is left
alone. Linux only, like the bundled server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from clonedetect.client.protocol import ADMIN_KEY_HEADER
from clonedetect.server import ServerError, TritonProcess

STUB_BINARY = "triton_python_backend_stub"
MAX_RESTARTS = 5  # restarts within RESTART_WINDOW_MINUTES before giving up (a server that cannot stay up)
RESTART_WINDOW_MINUTES = 10
FIRST_BACKOFF_S = 1.0  # wait before a restart: doubles with each restart inside the window
MAX_BACKOFF_S = 30.0
POLL_S = 0.5
SUPERVISING = "Press Ctrl-C to stop."  # the last line of serve's banner: ready, and supervised from then on


def restart_count(value: str) -> int:
    """``--max-restarts``: a count, 0 or more."""
    count = int(value)
    if count < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: use 0 (never restart) or more")
    return count


@dataclass(frozen=True)
class Stub:
    """A Python-backend stub process: ``<repository>/<model>/<version>/model.py``."""

    pid: int
    model_file: str  # one stub per model version (and instance)
    shm_region: str  # its shared-memory region, /dev/shm/<name>

    @property
    def model(self) -> str:
        return Path(self.model_file).parent.parent.name


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...
        if int(fields[1]) == parent and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def python_stubs(server_pid: int) -> dict[int, Stub]:
    """The live stub processes of the tritonserver ``server_pid``, by PID."""
    stubs = {}
    for pid in _children(server_pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 2 and argv[0].endswith(STUB_BINARY.encode()):
            stubs[pid] = Stub(pid, argv[1].decode(), argv[2].decode())
    return stubs


class Supervisor:
    """Watches a started and ready :class:`~clonedetect.server.TritonProcess`; :meth:`watch`
    returns (exit status 1) only when it could not keep the server up."""

    def __init__(self, triton: TritonProcess, *, max_restarts: int, ready_timeout: float, admin_key: str | None):
        self.triton, self.max_restarts, self.ready_timeout = triton, max_restarts, ready_timeout
        self.admin_key = admin_key
        self.restarts: deque[float] = deque()
        self.reloading: dict[str, float] = {}  # model -> when its dead stub was found
        self.stubs = python_stubs(triton.process.pid)

    def say(self, message: str) -> None:
        print(f"clonedetect serve: {message}", file=sys.stderr, flush=True)

    def watch(self) -> int:
        while True:
            time.sleep(POLL_S)
            if self.triton.process.poll() is not None:
                if not self._restart():
                    return 1
            else:
                self._reload_dead_stubs(python_stubs(self.triton.process.pid))

    def _restart(self) -> bool:
        """Restart the exited server; False when the restart budget is spent."""
        exited_at, status = time.monotonic(), self.triton.process.returncode
        _kill_group(self.triton.process.pid)  # stubs still winding down
        while True:
            now = time.monotonic()
            while self.restarts and now - self.restarts[0] > RESTART_WINDOW_MINUTES * 60:
                self.restarts.popleft()
            if len(self.restarts) >= self.max_restarts:
                self.say(
                    f"tritonserver exited (status {status}) after {len(self.restarts)} restart(s) in "
                    f"{RESTART_WINDOW_MINUTES} minutes; not restarting again (see its log)"
                )
                return False
            wait = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** len(self.restarts))
            self.restarts.append(now)
            self.say(f"tritonserver exited (status {status}); restart {len(self.restarts)} in {wait:.0f} s")
            time.sleep(wait)
            try:
                self.triton.start()
                self._wait_until_ready()
            except ServerError as error:
                self.say(f"restart failed: {error}")
                status = self.triton.stop()
                continue
            self.say(f"tritonserver is ready again, {time.monotonic() - exited_at:.1f} s after it exited")
            return True

    def _wait_until_ready(self) -> None:
        """The server's wait, recording each stub as it starts: one killed before the
        server is ready (and clients are answered) is known, and replaced."""
        self.stubs = {}

        def record_stubs() -> None:
            self.stubs.update(python_stubs(self.triton.process.pid))

        self.triton.wait_until_ready(self.ready_timeout, while_waiting=record_stubs)
        record_stubs()

    def _reload_dead_stubs(self, current: dict[int, Stub]) -> None:
        """Reload each ``READY`` model one of whose stubs died and has no successor yet,
        until it has one. A reload by someone else also replaces the stubs; a model
        unloaded on purpose is not ``READY``, and is left alone."""
        self.stubs.update(current)  # stubs started since (a model loaded or reloaded by someone)
        dead = [stub for pid, stub in self.stubs.items() if pid not in current]
        if not dead:
            return
        alive = {stub.model_file for stub in current.values()}
        waiting = [stub for stub in dead if stub.model_file not in alive]
        for stub in dead:
            _remove_shared_memory(stub.shm_region)
        for model in sorted({stub.model for stub in waiting}):
            if model not in self.reloading:
                if not self._model_ready(model):
                    continue
                self.reloading[model] = time.monotonic()
                self.say(f"the Python-backend process of model {model!r} died; loading the model again")
            self._reload(model)
        for model in sorted(set(self.reloading) - {stub.model for stub in waiting}):
            found_dead_for = time.monotonic() - self.reloading.pop(model)
            self.say(f"model {model!r} serves again, {found_dead_for:.1f} s after its process was found dead")
        self.stubs = {**current, **{stub.pid: stub for stub in waiting}}

    def _reload(self, model: str) -> None:
        """Unload, then load: a load alone of a loaded model whose config is unchanged is
        a no-op. In between, requests get "not ready" (the client retries those)."""
        try:
            self._request(f"/v2/repository/models/{model}/unload", "POST")
            self._request(f"/v2/repository/models/{model}/load", "POST")
        except (urllib.error.URLError, OSError) as error:
            self.say(f"loading {model!r} failed ({error}); trying again")

    def _request(self, path: str, method: str = "GET") -> bytes:
        headers = {ADMIN_KEY_HEADER: self.admin_key} if self.admin_key else {}
        request = urllib.request.Request(f"http://{self.triton.http_url}{path}", method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=self.ready_timeout) as reply:
            return reply.read()

    def _model_ready(self, model: str) -> bool:
        try:
            index = json.loads(self._request("/v2/repository/index", "POST"))
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return any(row.get("name") == model and row.get("state") == "READY" for row in index)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _remove_shared_memory(region: str) -> None:
    try:
        (Path("/dev/shm") / region).unlink()
    except OSError:  # already removed by the server, or never created
        pass
