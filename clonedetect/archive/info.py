"""``archive info``: what an archive holds, as JSON-ready data."""

from __future__ import annotations

from clonedetect.archive.store import ArchiveStore


def archive_info(store: ArchiveStore) -> dict:
    """Submissions and files per course and term, the encoder and the size on disk."""
    per_batch: dict[tuple, dict] = {}
    for batch in store.batches():
        key = (batch["course"], batch["term"])
        totals = per_batch.setdefault(
            key, {"course": batch["course"], "term": batch["term"], "submissions": 0, "files": 0}
        )
        totals["submissions"] += batch["submissions"]
        totals["files"] += batch["files"]
    encoder = store.encoder() or {}
    return {
        "archive": store.location,
        "submissions": sum(t["submissions"] for t in per_batch.values()),
        "files": sum(t["files"] for t in per_batch.values()),
        "terms": sorted(per_batch.values(), key=lambda t: (t["course"] or "", t["term"])),
        "batches": len(store.batches()),
        "embedding_dim": encoder.get("dim"),
        "encoder": {k: v for k, v in encoder.items() if k != "probe"},
        "size_bytes": store.size_bytes(),
    }
