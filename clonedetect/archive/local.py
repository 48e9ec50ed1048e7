"""The default archive: one folder of append-only shards, no server needed.

Each ``archive add`` writes one new shard folder (``shard-00003/``): the embeddings as a
float32 ``.npy``, a small ``keys.npy`` of what searches filter on (language family,
author key), the metadata as JSON lines and the texts zlib-compressed back to back.
Only ``manifest.json`` (the list of shards and the encoder) is replaced, atomically, so
adding a term to a large archive never reads or rewrites the terms before it. A search
memory-maps every shard and multiplies in chunks, so the archive need not fit in memory.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib

import numpy as np

from clonedetect.archive.store import ArchivedFile, SearchFilter, author_key, batch_summary, family_code
from clonedetect.archive.topk import merge_chunk
from clonedetect.client.errors import InvalidInputError

MANIFEST = "manifest.json"
FORMAT = "clonedetect-archive/1"
CHUNK_ROWS = 16384  # archived rows per matrix product
QUERY_ROWS = 1024  # queries per matrix product: with CHUNK_ROWS, 64 MiB of scores
KEY_DTYPE = np.dtype([("family", "u1"), ("author", "<i8")])


class LocalStore:
    def __init__(self, folder: str):
        self.location = folder
        self._manifest_path = os.path.join(folder, MANIFEST)

    # -- reading -------------------------------------------------------------------
    def exists(self) -> bool:
        return os.path.isfile(self._manifest_path)

    def _manifest(self) -> dict:
        if not self.exists():
            return {"format": FORMAT, "encoder": None, "shards": []}
        try:
            with open(self._manifest_path, encoding="utf-8") as handle:
                manifest = json.load(handle)
        except (OSError, ValueError) as error:
            raise InvalidInputError(f"archive {self.location}: unreadable {MANIFEST} ({error})") from None
        if manifest.get("format") != FORMAT:
            raise InvalidInputError(f"archive {self.location}: not a clonedetect archive ({MANIFEST} format)")
        return manifest

    def encoder(self) -> dict | None:
        return self._manifest()["encoder"]

    def batches(self) -> list[dict]:
        return [
            {k: v for k, v in shard.items() if k not in ("name", "first_id")} for shard in self._manifest()["shards"]
        ]

    def size_bytes(self) -> int:
        return sum(
            os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(self.location) for name in names
        )

    def _shard_file(self, shard: dict, name: str) -> str:
        return os.path.join(self.location, shard["name"], name)

    def _shard_of(self, shards: list[dict], file_id: int) -> dict:
        for shard in shards:
            if shard["first_id"] <= file_id < shard["first_id"] + shard["files"]:
                return shard
        raise KeyError(f"archive {self.location} has no file {file_id}")

    def _records(self, ids: list[int]) -> list[dict]:
        """The metadata lines of ``ids``, reading each shard's lines at most once."""
        shards = self._manifest()["shards"]
        wanted: dict[str, dict[int, int]] = {}
        for file_id in ids:
            shard = self._shard_of(shards, file_id)
            wanted.setdefault(shard["name"], {})[file_id - shard["first_id"]] = file_id
        found: dict[int, dict] = {}
        for shard in shards:
            rows = wanted.get(shard["name"])
            if rows:
                with open(self._shard_file(shard, "files.jsonl"), encoding="utf-8") as handle:
                    for row, line in enumerate(handle):
                        if row in rows:
                            found[rows[row]] = json.loads(line)
        return [found[file_id] for file_id in ids]

    def files(self, ids: list[int]) -> list[ArchivedFile]:
        return [ArchivedFile(**{k: v for k, v in r.items() if k != "text"}) for r in self._records(ids)]

    def texts(self, ids: list[int]) -> list[str]:
        shards = self._manifest()["shards"]
        texts = []
        for file_id, record in zip(ids, self._records(ids), strict=True):
            offset, length = record["text"]
            with open(self._shard_file(self._shard_of(shards, file_id), "texts.zlib"), "rb") as handle:
                handle.seek(offset)
                texts.append(zlib.decompress(handle.read(length)).decode("utf-8"))
        return texts

    # -- searching -----------------------------------------------------------------
    def search(self, queries: np.ndarray, limit: int, filters: list[SearchFilter]) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32)
        best_scores = np.full((len(queries), limit), -np.inf, dtype=np.float32)
        best_ids = np.full((len(queries), limit), -1, dtype=np.int64)
        families = np.array([family_code(f.family) for f in filters], dtype=np.uint8)
        authors = np.array([author_key(f.author) for f in filters], dtype=np.int64)
        for shard in self._manifest()["shards"]:
            embeddings = np.load(self._shard_file(shard, "embeddings.npy"), mmap_mode="r")
            keys = np.load(self._shard_file(shard, "keys.npy"), mmap_mode="r")
            for start in range(0, shard["files"], CHUNK_ROWS):
                rows = slice(start, start + CHUNK_ROWS)
                chunk, chunk_keys = np.asarray(embeddings[rows]), np.asarray(keys[rows])
                ids = np.arange(shard["first_id"] + start, shard["first_id"] + start + len(chunk))
                for first in range(0, len(queries), QUERY_ROWS):
                    block = slice(first, first + QUERY_ROWS)
                    scores = queries[block] @ chunk.T
                    merged = merge_chunk(
                        best_scores[block], best_ids[block], scores, ids, families[block], authors[block], chunk_keys
                    )
                    best_scores[block], best_ids[block] = merged
        return best_scores, best_ids

    # -- adding ----------------------------------------------------------------------
    def add(self, embeddings: np.ndarray, files: list[ArchivedFile], texts: list[str], encoder: dict) -> None:
        manifest = self._manifest()
        shards = manifest["shards"]
        name = f"shard-{len(shards):05d}"
        staging = os.path.join(self.location, name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)  # left by an add that did not finish
        os.makedirs(staging)
        _write_shard(staging, np.asarray(embeddings, dtype=np.float32), files, texts)
        os.replace(staging, os.path.join(self.location, name))
        first_id = shards[-1]["first_id"] + shards[-1]["files"] if shards else 0
        shards.append({"name": name, "first_id": first_id, **batch_summary(files)})
        manifest["encoder"] = encoder
        temporary = self._manifest_path + ".partial"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1)
        os.replace(temporary, self._manifest_path)


def _write_shard(folder: str, embeddings: np.ndarray, files: list[ArchivedFile], texts: list[str]) -> None:
    np.save(os.path.join(folder, "embeddings.npy"), embeddings)
    keys = np.array([(family_code(f.language), author_key(f.author)) for f in files], dtype=KEY_DTYPE)
    np.save(os.path.join(folder, "keys.npy"), keys)
    offset = 0
    with (
        open(os.path.join(folder, "texts.zlib"), "wb") as blobs,
        open(os.path.join(folder, "files.jsonl"), "w", encoding="utf-8") as lines,
    ):
        for file, text in zip(files, texts, strict=True):
            blob = zlib.compress(text.encode("utf-8"), 6)
            blobs.write(blob)
            lines.write(json.dumps({**file.to_dict(), "text": [offset, len(blob)]}) + "\n")
            offset += len(blob)
