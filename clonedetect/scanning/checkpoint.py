"""A resumable scan: the server's answers kept in a folder as they come, so that a scan
killed at any moment (``kill -9`` included) and run again with the same folder asks the
server only for what it had not answered yet, and gives the same result.

:class:`CheckpointBackend` wraps the scan's backend (the client): ``embed`` and
``compare_many`` look each program (pair of programs) up by the SHA-256 of its text,
send only the missing ones, ``SAVE_EVERY`` at a time, and append each part's answers to
a journal before going on. A journal is JSON lines, each record written whole, flushed
and fsynced; a record cut short by a kill (the last line, without its newline) is
dropped when the folder is opened again and its work redone. ``checkpoint.json`` names
the models the answers came from, so a folder is never reused with other models.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from clonedetect.client.errors import InvalidInputError
from clonedetect.client.protocol import Comparison

SAVE_EVERY = 64  # programs (pairs) per request to the backend and per journal write: 4 of the client's requests
IDENTITY_FILE = "checkpoint.json"
EMBEDDINGS_FILE = "embeddings.jsonl"
COMPARISONS_FILE = "comparisons.jsonl"


def text_key(code: str | bytes) -> str:
    data = code.encode("utf-8") if isinstance(code, str) else code
    return hashlib.sha256(data).hexdigest()


def pair_key(code_a: str | bytes, code_b: str | bytes) -> str:
    return f"{text_key(code_a)}:{text_key(code_b)}"  # ordered: compare(a, b) is not compare(b, a)


class Journal:
    """An append-only file of ``{"key": ..., "value": ...}`` lines, read back as a dict."""

    def __init__(self, path: Path):
        self.path = path
        self.records: dict[str, object] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]  # a last line without its newline was cut short by a kill
        if len(whole) < len(data):
            with open(self.path, "r+b") as handle:
                handle.truncate(len(whole))
        for number, line in enumerate(whole.splitlines(), start=1):
            try:
                record = json.loads(line)
                self.records[record["key"]] = record["value"]
            except (ValueError, KeyError, TypeError):
                raise InvalidInputError(
                    f"checkpoint file {self.path} is damaged at line {number}: delete its folder to start the scan over"
                ) from None

    def append(self, items: Iterable[tuple[str, object]]) -> None:
        lines = []
        for key, value in items:
            self.records[key] = value
            lines.append(json.dumps({"key": key, "value": value}, separators=(",", ":")) + "\n")
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())


def _vector_text(vector: np.ndarray) -> str:
    """An embedding, exactly (little-endian float32, base64)."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def backend_identity(backend) -> dict:
    """What the answers depend on: the models the backend (a client) sends to."""
    return {
        "embed_model": getattr(backend, "embed_model", None),
        "compare_model": getattr(backend, "compare_model", None),
    }


def open_folder(folder: str | os.PathLike, identity: dict) -> tuple[Journal, Journal]:
    """The embeddings and comparisons journals of ``folder`` (created if new)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"checkpoint {folder} is a file: name a folder (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInputError(f"cannot create checkpoint folder {folder}: {error.strerror}") from None
    identity_path = folder / IDENTITY_FILE
    if identity_path.exists():
        try:
            written = json.loads(identity_path.read_text(encoding="utf-8"))
        except ValueError:
            raise InvalidInputError(f"{identity_path} is damaged: delete {folder} to start the scan over") from None
        if written != identity:
            raise InvalidInputError(
                f"checkpoint {folder} holds answers of other models ({written}, not {identity}): "
                "use another folder, or delete this one to start over"
            )
    else:
        _write_atomically(identity_path, json.dumps(identity, indent=2) + "\n")
    return Journal(folder / EMBEDDINGS_FILE), Journal(folder / COMPARISONS_FILE)


def _missing(keys: list[str], items: list, known: dict) -> list[tuple[str, object]]:
    """The items whose key is not in ``known``, each once, in first-seen order."""
    seen: dict[str, object] = {}
    for key, item in zip(keys, items, strict=True):
        if key not in known and key not in seen:
            seen[key] = item
    return list(seen.items())


def _fill(missing: list[tuple[str, object]], ask: Callable[[list], list], journal: Journal, encode) -> None:
    for start in range(0, len(missing), SAVE_EVERY):
        part = missing[start : start + SAVE_EVERY]
        answers = ask([item for _, item in part])
        journal.append((key, encode(answer)) for (key, _), answer in zip(part, answers, strict=True))


class CheckpointBackend:
    """The scan's backend, with every answer kept in (and first looked up in) a checkpoint folder."""

    def __init__(self, backend, folder: str | os.PathLike):
        self.backend = backend
        self.embeddings, self.comparisons = open_folder(folder, backend_identity(backend))

    def embed(self, codes: list[str]) -> np.ndarray:
        keys = [text_key(code) for code in codes]
        missing = _missing(keys, codes, self.embeddings.records)
        _fill(missing, lambda part: list(self.backend.embed(part)), self.embeddings, _vector_text)
        return np.stack([_vector(self.embeddings.records[key]) for key in keys]) if keys else np.zeros((0, 0))

    def compare_many(self, pairs: list[tuple[str, str]]) -> list[Comparison]:
        keys = [pair_key(a, b) for a, b in pairs]
        missing = _missing(keys, pairs, self.comparisons.records)
        _fill(missing, self.backend.compare_many, self.comparisons, Comparison.to_dict)
        return [Comparison(**self.comparisons.records[key]) for key in keys]
