"""The archive in Milvus, for archives that outgrow one machine.

``milvus-lite:///path/archive.db`` runs Milvus's embedded engine in-process (the
``milvus`` extra installs it); ``milvus://host:19530/collection`` talks to a server.
Two collections: ``<name>`` holds a row per file (vector, the filter keys, metadata) and
``<name>_blobs`` the manifest and the texts. Milvus wants a vector in every collection and
caps a string at 64 KiB, so the blobs carry a 2-d dummy vector and a text is stored as
zlib-compressed, base64 parts. pymilvus is imported only here, when such a URL is used.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from urllib.parse import urlparse

import numpy as np

from clonedetect.archive.store import ArchivedFile, SearchFilter, author_key, batch_summary, family_code
from clonedetect.client.errors import InvalidInputError

DEFAULT_COLLECTION = "clonedetect_archive"
PART_BYTES = 48_000  # compressed bytes per text part: 64,000 characters of base64
INSERT_ROWS = 2000
SEARCH_ROWS = 1000  # queries per request: a server's messages are capped (64 MiB by default)
METADATA = ("submission", "path", "language", "course", "term", "author", "added")


def _client(uri: str):
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise InvalidInputError("a Milvus archive needs pymilvus: pip install 'clonedetect[milvus]'") from None
    try:
        return MilvusClient(uri=uri)
    except Exception as error:  # pymilvus raises its own exception types for every failure
        raise InvalidInputError(f"cannot open Milvus at {uri}: {error}") from None


class MilvusStore:
    def __init__(self, location: str, uri: str, collection: str, local_path: str | None = None):
        self.location = location
        self._uri, self._collection, self._blobs = uri, collection, collection + "_blobs"
        self._local_path = local_path
        self._connection = None

    @classmethod
    def from_url(cls, url: str) -> MilvusStore:
        parsed = urlparse(url)
        if parsed.scheme == "milvus-lite":
            path = parsed.netloc + parsed.path
            if not path:
                raise InvalidInputError(f"archive {url}: name the database file, e.g. milvus-lite:///data/archive.db")
            return cls(url, path, DEFAULT_COLLECTION, local_path=path)
        if not parsed.hostname:
            raise InvalidInputError(f"archive {url}: name the server, e.g. milvus://host:19530/collection")
        collection = parsed.path.strip("/") or DEFAULT_COLLECTION
        return cls(url, f"http://{parsed.hostname}:{parsed.port or 19530}", collection)

    @property
    def _milvus(self):
        if self._connection is None:
            self._connection = _client(self._uri)
        return self._connection

    # -- reading -------------------------------------------------------------------
    def exists(self) -> bool:
        if self._local_path is not None and not os.path.exists(self._local_path):
            return False  # opening would create the database
        if not self._milvus.has_collection(self._collection):
            return False
        for name in (self._collection, self._blobs):
            self._milvus.load_collection(name)
        return True

    def _manifest(self) -> dict:
        if not self.exists():
            return {"encoder": None, "batches": [], "files": 0}
        rows = self._milvus.query(self._blobs, filter='key == "manifest"', output_fields=["value"])
        return json.loads(rows[0]["value"])

    def encoder(self) -> dict | None:
        return self._manifest()["encoder"]

    def batches(self) -> list[dict]:
        return self._manifest()["batches"]

    def size_bytes(self) -> int | None:
        if self._local_path is None:
            return None  # a server's storage is not ours to measure
        if os.path.isfile(self._local_path):
            return os.path.getsize(self._local_path)
        walk = os.walk(self._local_path)
        return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in walk for name in names)

    def _rows(self, ids: list[int], fields: list[str]) -> list[dict]:
        found = {row["id"]: row for row in self._milvus.query(self._collection, ids=ids, output_fields=fields)}
        return [found[file_id] for file_id in ids]

    def files(self, ids: list[int]) -> list[ArchivedFile]:
        return [ArchivedFile(**{k: row[k] or None for k in METADATA}) for row in self._rows(ids, list(METADATA))]

    def texts(self, ids: list[int]) -> list[str]:
        rows = self._rows(ids, ["text_parts"])
        keys = [
            f"text:{file_id}:{part}"
            for file_id, row in zip(ids, rows, strict=True)
            for part in range(row["text_parts"])
        ]
        found = {r["key"]: r["value"] for r in self._milvus.query(self._blobs, ids=keys, output_fields=["value"])}
        texts = []
        for file_id, row in zip(ids, rows, strict=True):
            blob = b"".join(base64.b64decode(found[f"text:{file_id}:{part}"]) for part in range(row["text_parts"]))
            texts.append(zlib.decompress(blob).decode("utf-8"))
        return texts

    def search(self, queries: np.ndarray, limit: int, filters: list[SearchFilter]) -> tuple[np.ndarray, np.ndarray]:
        """One Milvus search per distinct filter (a search takes one filter expression)."""
        scores = np.full((len(queries), limit), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), limit), -1, dtype=np.int64)
        groups: dict[tuple[int, int], list[int]] = {}
        for row, where in enumerate(filters):
            groups.setdefault((family_code(where.family), author_key(where.author)), []).append(row)
        for (family, author), rows in groups.items():
            expression = f"family == {family}" + (f" and author_key != {author}" if author else "")
            for start in range(0, len(rows), SEARCH_ROWS):
                part = rows[start : start + SEARCH_ROWS]
                data = [np.asarray(queries[row], dtype=np.float32) for row in part]
                answers = self._milvus.search(self._collection, data=data, limit=limit, filter=expression)
                for row, hits in zip(part, answers, strict=True):
                    scores[row, : len(hits)] = [hit["distance"] for hit in hits]
                    ids[row, : len(hits)] = [hit["id"] for hit in hits]
        return scores, ids

    # -- adding ----------------------------------------------------------------------
    def _create(self, dim: int) -> None:
        from pymilvus import DataType

        files = self._milvus.create_schema(auto_id=False)
        files.add_field("id", DataType.INT64, is_primary=True)
        files.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        files.add_field("family", DataType.INT8)
        files.add_field("author_key", DataType.INT64)
        files.add_field("text_parts", DataType.INT32)
        for name in METADATA:
            files.add_field(name, DataType.VARCHAR, max_length=4096)
        index = self._milvus.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        self._milvus.create_collection(self._collection, schema=files, index_params=index)
        blobs = self._milvus.create_schema(auto_id=False)
        blobs.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        blobs.add_field("value", DataType.VARCHAR, max_length=65535)
        blobs.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)
        blob_index = self._milvus.prepare_index_params()
        blob_index.add_index("dummy", index_type="FLAT", metric_type="L2")
        self._milvus.create_collection(self._blobs, schema=blobs, index_params=blob_index)

    def add(self, embeddings: np.ndarray, files: list[ArchivedFile], texts: list[str], encoder: dict) -> None:
        manifest = self._manifest()
        if not self.exists():
            self._create(embeddings.shape[1])
        first_id = manifest["files"]
        rows, blobs = [], []
        for offset, (vector, file, text) in enumerate(zip(embeddings, files, texts, strict=True)):
            parts = _text_parts(text)
            file_id = first_id + offset
            blobs += [
                {"key": f"text:{file_id}:{n}", "value": part, "dummy": [0.0, 0.0]} for n, part in enumerate(parts)
            ]
            metadata = {k: v or "" for k, v in file.to_dict().items()}
            keys = {"family": family_code(file.language), "author_key": author_key(file.author)}
            rows.append({"id": file_id, "vector": vector, "text_parts": len(parts), **keys, **metadata})
        for collection, items in ((self._collection, rows), (self._blobs, blobs)):
            for start in range(0, len(items), INSERT_ROWS):
                self._milvus.insert(collection, items[start : start + INSERT_ROWS])
        manifest["batches"].append(batch_summary(files))
        manifest.update(encoder=encoder, files=first_id + len(rows))
        self._milvus.upsert(self._blobs, [{"key": "manifest", "value": json.dumps(manifest), "dummy": [0.0, 0.0]}])


def _text_parts(text: str) -> list[str]:
    blob = zlib.compress(text.encode("utf-8"), 6)
    return [
        base64.b64encode(blob[start : start + PART_BYTES]).decode("ascii") for start in range(0, len(blob), PART_BYTES)
    ]
