"""The archive at course scale: ``python -m clonedetect.load_tests.archive_bench``.

Two measurements, on random unit vectors (at this scale only the arithmetic and the I/O
matter, not what the vectors mean; random vectors have no neighbour above a similarity
floor, so each new file brings exactly its top-k hits):

1. the backends side by side: add ``--archive-files`` vectors, then search
   ``--queries`` queries top-10, and a single one, through each store;
2. a scan's archive step on the default (local) store: ``--new-files`` new files against
   the archive (search with filters, candidates, fetching the archived texts to verify),
   and one new submission (opening the archive cold included). The server's work, the
   embedding of the new files and ``clone_compare``, is excluded: it is the same with or
   without an archive and is measured in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np

from clonedetect.archive import matching
from clonedetect.archive.store import ArchivedFile, SearchFilter, open_existing, open_store
from clonedetect.scanning.result import ScanSettings

ENCODER = {"embed_model": "bench", "encoder_model": "bench", "encoder_version": 0, "precision": "fp32"}
LANGUAGES = ("c", "java", "python")


def unit_vectors(rng, count: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def peak_rss_mib(reset: bool = False) -> float | None:
    """The process's peak resident memory since the last reset (Linux; None elsewhere).

    Right after a reset the kernel reports the larger of the recorded peak and the current
    RSS, whose per-thread counters it syncs later: a peak read afterwards can come out a
    fraction of a MB below that first reading, so a caller takes the larger of the two."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        with open("/proc/self/status") as handle:
            line = next(line for line in handle if line.startswith("VmHWM:"))
        return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None


def fill(store, rng, files: int, dim: int, batch: int = 25_000) -> float:
    """Seconds to add ``files`` archived files in batches of ``batch`` (one batch a term)."""
    started = time.perf_counter()
    for first in range(0, files, batch):
        count = min(batch, files - first)
        term = f"term{first // batch}"
        records = [
            ArchivedFile(f"s{first + i}.c", f"s{first + i}.c", LANGUAGES[i % 3], "bench", term, f"a{first + i}", "-")
            for i in range(count)
        ]
        texts = [f"int f{first + i}(int x) {{ return x * {i}; }}\n" for i in range(count)]
        store.add(unit_vectors(rng, count, dim), records, texts, {**ENCODER, "dim": dim})
    return time.perf_counter() - started


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def backend_figures(location: str, rng, args) -> dict:
    peak_rss_mib(reset=True)
    add_s = fill(open_store(location), rng, args.archive_files, args.dim)
    store = open_existing(location)
    queries = unit_vectors(rng, args.queries, args.dim)
    search_s, _ = timed(store.search, queries, 10, [SearchFilter("c", None)] * len(queries))
    one_s, _ = timed(store.search, queries[:1], 10, [SearchFilter("c", None)])
    return {
        "add_s": round(add_s, 2),
        f"search_{args.queries}_top10_s": round(search_s, 2),
        "search_1_top10_s": round(one_s, 3),
        "size_mib": round(store.size_bytes() / 2**20, 1),
        "peak_rss_mib": peak_rss_mib(),
    }


def archive_step(store, embeddings: np.ndarray, submission_of: list[int]) -> int:
    """What a scan does with the archive besides the server's calls; returns the pairs."""
    filters = [SearchFilter(LANGUAGES[i % 3], f"new{i}") for i in range(len(embeddings))]
    hits = matching._hits(store, embeddings, submission_of, filters, ScanSettings())
    ids = sorted({h.file_id for h in hits})
    chosen = matching._best_per_pair(hits, dict(zip(ids, store.files(ids), strict=True)))
    store.texts([h.file_id for h in chosen])
    return len(chosen)


def scan_figures(location: str, rng, args) -> dict:
    new = unit_vectors(rng, args.new_files, args.dim)
    peak_rss_mib(reset=True)
    many_s, pairs = timed(archive_step, open_existing(location), new, list(range(len(new))))
    many_peak = peak_rss_mib()
    one_s, _ = timed(lambda: archive_step(open_existing(location), new[:1], [0]))
    return {
        f"{args.new_files}_new_files_s": round(many_s, 2),
        f"{args.new_files}_new_files_pairs": pairs,
        f"{args.new_files}_new_files_peak_rss_mib": many_peak,
        "one_new_submission_s": round(one_s, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clonedetect.load_tests.archive_bench", description=__doc__)
    parser.add_argument("--archive-files", type=int, default=100_000)
    parser.add_argument("--new-files", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--backends", nargs="+", default=["local", "milvus-lite"], choices=["local", "milvus-lite"])
    parser.add_argument("--folder", help="where to build the archives (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        locations = {"local": os.path.join(folder, "local"), "milvus-lite": f"milvus-lite://{folder}/archive.db"}
        figures = {name: backend_figures(locations[name], np.random.default_rng(0), args) for name in args.backends}
        if "local" in figures:
            figures["scan_archive_step_local"] = scan_figures(locations["local"], np.random.default_rng(1), args)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
