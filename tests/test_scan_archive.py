"""The archive of past submissions: both backends on their own (random vectors, no
server), then ``archive add`` / ``info`` and ``scan --archive`` on the real Triton server."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from clonedetect.archive import local
from clonedetect.archive.add import add_submissions
from clonedetect.archive.store import ArchivedFile, SearchFilter, open_existing, open_store
from clonedetect.cli import main as cli_main
from clonedetect.client import CloneDetectorClient, InvalidInputError
from clonedetect.paths import PROJECT_ROOT
from clonedetect.scanning import scan

ASSIGNMENT = PROJECT_ROOT / "tests" / "samples" / "assignment"
BASE = PROJECT_ROOT / "tests" / "samples" / "assignment_base"
DIM = 16


def locations(tmp_path) -> dict[str, str]:
    return {"local": str(tmp_path / "folder"), "milvus-lite": f"milvus-lite://{tmp_path / 'archive.db'}"}


def random_batch(rng, count: int, term: str, authors=("sam", None, "kim")):
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    languages = ("c", "java", "cpp", "python")
    files = [
        ArchivedFile(
            f"sub{i // 2}", f"sub{i // 2}/f{i}", languages[i % 4], "cs1", term, authors[i % len(authors)], "2024-01-01"
        )
        for i in range(count)
    ]
    texts = [f"int f{i}(void) {{ return {i}; }} // ü {term}" * (1 + i % 3) for i in range(count)]
    return vectors, files, texts


def brute_force(vectors, files, queries, filters, limit):
    """The expected answer: every allowed archived file scored, the best ``limit`` kept."""
    family = {"c": "c", "cpp": "c", "java": "java", "python": "python"}
    answers = []
    for query, where in zip(queries, filters, strict=True):
        allowed = [
            i
            for i, f in enumerate(files)
            if family[f.language] == where.family and (where.author is None or f.author != where.author)
        ]
        scores = vectors[allowed] @ query
        answers.append([allowed[i] for i in np.argsort(-scores)[:limit]])
    return answers


ENCODER = {"embed_model": "test", "encoder_model": "test", "encoder_version": 1, "precision": "fp32", "dim": DIM}


@pytest.mark.parametrize("backend", ["local", "milvus-lite"])
def test_store_searches_exactly_with_filters_and_round_trips_texts_and_metadata(tmp_path, backend, monkeypatch):
    rng = np.random.default_rng(7)
    store = open_store(locations(tmp_path)[backend])
    assert not store.exists() and store.encoder() is None
    first, second = random_batch(rng, 40, "2023"), random_batch(rng, 30, "2024", authors=(None, "ann"))
    store.add(*first, ENCODER)
    store.add(*second, ENCODER)
    vectors = np.concatenate([first[0], second[0]])
    files, texts = first[1] + second[1], first[2] + second[2]
    queries = rng.standard_normal((6, DIM)).astype(np.float32)
    filters = [SearchFilter("c", None), SearchFilter("c", "sam"), SearchFilter("java", "ann")] * 2
    scores, ids = open_existing(store.location).search(queries, 5, filters)
    assert ids.tolist() == brute_force(vectors, files, queries, filters, 5)
    monkeypatch.setattr(local, "CHUNK_ROWS", 7)  # chunks whose best are merged sparsely: the same answer
    assert store.search(queries, 5, filters)[1].tolist() == ids.tolist()
    expected = [vectors[row] @ query for query, row_ids in zip(queries, ids, strict=True) for row in row_ids]
    assert np.allclose(scores.reshape(-1), expected, atol=1e-5)
    picked = [0, 39, 40, 69, 3]
    assert store.files(picked) == [files[i] for i in picked]
    assert store.texts(picked) == [texts[i] for i in picked]
    assert [(b["term"], b["submissions"], b["files"]) for b in store.batches()] == [("2023", 20, 40), ("2024", 15, 30)]
    python_files = sum(f.language == "python" for f in files)
    wide_scores, wide_ids = store.search(queries[:1], 50, [SearchFilter("python", None)])
    assert sorted(wide_ids[0, :python_files]) == [i for i, f in enumerate(files) if f.language == "python"]
    assert (wide_ids[0, python_files:] == -1).all() and np.isneginf(wide_scores[0, python_files:]).all()


def file_states(folder) -> dict[str, tuple[int, bytes]]:
    return {
        os.path.join(path, name): (
            os.stat(os.path.join(path, name)).st_mtime_ns,
            open(os.path.join(path, name), "rb").read(),
        )
        for path, _, names in os.walk(folder)
        for name in names
    }


def test_adding_a_term_appends_a_shard_and_leaves_the_earlier_ones_untouched(tmp_path):
    rng = np.random.default_rng(1)
    store = open_store(str(tmp_path / "archive"))
    store.add(*random_batch(rng, 10, "2023"), ENCODER)
    before = file_states(tmp_path / "archive" / "shard-00000")
    store.add(*random_batch(rng, 10, "2024"), ENCODER)
    assert file_states(tmp_path / "archive" / "shard-00000") == before
    assert sorted(os.listdir(tmp_path / "archive")) == ["manifest.json", "shard-00000", "shard-00001"]


# -- on the real server ----------------------------------------------------------------------
def terms(tmp_path):
    """A past term (alice.c, dave.c, bob) and a new one (carol.c, alice's disguised copy)."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for name in ("alice.c", "dave.c"):
        shutil.copy(ASSIGNMENT / name, old / name)
    shutil.copytree(ASSIGNMENT / "bob", old / "bob")
    shutil.copy(ASSIGNMENT / "carol.c", new / "carol.c")
    authors = tmp_path / "authors.csv"
    authors.write_text("submission,author\nalice.c,sam\ndave.c,dee\n")
    return old, new, authors


def cli_json(capsys, *arguments) -> dict:
    assert cli_main(list(arguments)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["local", "milvus-lite"])
def test_archive_add_info_and_scan_report_the_archived_original_of_a_disguised_copy(triton, tmp_path, capsys, backend):
    old, new, authors = terms(tmp_path)
    archive = locations(tmp_path)[backend]
    server = ["--url", triton.http_url]
    added = cli_json(
        capsys,
        "archive",
        "add",
        str(old),
        "--archive",
        archive,
        "--term",
        "2023-fall",
        "--course",
        "cs1",
        "--base-code",
        str(BASE),
        "--author-map",
        str(authors),
        *server,
    )
    assert (added["submissions"], added["files"]) == (3, 3)  # bob's main.c and stats.h are all base code
    info = cli_json(capsys, "archive", "info", "--archive", archive)
    assert info["terms"] == [{"course": "cs1", "term": "2023-fall", "submissions": 3, "files": 3}]
    assert info["embedding_dim"] == 384 and info["size_bytes"] > 0
    assert info["encoder"]["encoder_version"] == 1 and info["encoder"]["precision"] == "fp32"

    out = tmp_path / "scan.json"
    cli_json(capsys, "scan", str(new), "--base-code", str(BASE), "--archive", archive, "--json", "-", *server)
    assert (
        cli_main(["scan", str(new), "--base-code", str(BASE), "--archive", archive, "--json", str(out), *server]) == 0
    )
    document = json.loads(out.read_text())
    assert document["schema_version"] == 6 and document["settings"]["archive"] == archive
    top = document["pairs"][0]
    assert (top["a"], top["b"], top["file_b"]) == (
        str(new / "carol.c"),
        "archive:cs1/2023-fall/alice.c",
        "archive:cs1/2023-fall/alice.c",
    )
    assert top["probability"] > 0.9 and top["fragments"]
    assert top["b_archive"] == {
        "submission": "alice.c",
        "course": "cs1",
        "term": "2023-fall",
        "author": "sam",
        "added": top["b_archive"]["added"],
    }
    assert [p["b"] for p in document["pairs"]] == ["archive:cs1/2023-fall/alice.c"]  # dave and bob: not copies
    assert document["clusters"][0]["members"] == [str(new / "carol.c"), "archive:cs1/2023-fall/alice.c"]

    same_author = tmp_path / "new_authors.csv"
    same_author.write_text("submission,author\ncarol.c,sam\n")
    assert (
        cli_main(
            ["scan", str(new), "--archive", archive, "--author-map", str(same_author), "--json", str(out), *server]
        )
        == 0
    )
    document = json.loads(out.read_text())
    assert document["pairs"] == []
    with CloneDetectorClient(triton.http_url) as client:
        candidates = client.scan(
            [new], authors={"carol.c": "sam"}, archive=archive, top_k=5, min_similarity=-1
        ).candidates
    assert {p.b for p in candidates} == {"archive:cs1/2023-fall/dave.c", "archive:cs1/2023-fall/bob"}  # not alice's


class Recording:
    """The real client, recording every pair sent to ``clone_compare``."""

    def __init__(self, client):
        self.client, self.compared = client, []
        self.embed_model, self.precision, self.model_config = client.embed_model, client.precision, client.model_config

    def embed(self, codes):
        return self.client.embed(codes)

    def compare_many(self, pairs):
        self.compared += pairs
        return self.client.compare_many(pairs)


@pytest.mark.integration
def test_archived_submissions_are_never_compared_with_each_other(triton, tmp_path):
    old, new, _ = terms(tmp_path)
    shutil.copy(ASSIGNMENT / "carol.c", old / "carol.c")  # the copy and its original, both archived
    shutil.copy(ASSIGNMENT / "dave.c", new / "dave.c")
    (new / "carol.c").unlink()
    archive = str(tmp_path / "archive")
    with CloneDetectorClient(triton.http_url) as client:
        add_submissions(open_store(archive), client, [old], term="2023")
        recording = Recording(client)
        result = scan(recording, [new], archive=archive, top_k=10, min_similarity=-1)
    new_text = (new / "dave.c").read_text()
    assert recording.compared and all(a == new_text for a, _ in recording.compared)  # one side always new
    assert {p.b for p in result.candidates} == {f"archive:2023/{n}" for n in ("alice.c", "bob", "carol.c", "dave.c")}
    assert all(p.a == str(new / "dave.c") for p in result.candidates)


@pytest.mark.integration
def test_an_archive_of_another_encoder_is_refused(triton, tmp_path, capsys):
    old, new, _ = terms(tmp_path)
    archive = str(tmp_path / "archive")
    server = ["--url", triton.http_url]
    assert cli_main(["archive", "add", str(old), "--archive", archive, *server]) == 0
    capsys.readouterr()
    for command in (["scan", str(new), "--archive", archive], ["archive", "add", str(new), "--archive", archive]):
        assert cli_main([*command, *server, "--precision", "int8"]) == 2
        error = capsys.readouterr().err
        assert "was made with encoder clone_embed (code_clone_detector version 1, fp32" in error
        assert "clone_embed_int8 (code_clone_detector version 2, int8" in error and "--precision fp32" in error
    assert open_existing(archive).batches()[0]["files"] == 5 and len(open_existing(archive).batches()) == 1


def test_bad_or_missing_archives_exit_2_with_a_clear_message(tmp_path, capsys):
    new, not_an_archive, gone = tmp_path / "new", tmp_path / "not_an_archive", f"milvus-lite://{tmp_path / 'gone.db'}"
    new.mkdir()
    shutil.copy(ASSIGNMENT / "carol.c", new / "carol.c")
    not_an_archive.mkdir()
    (not_an_archive / "manifest.json").write_text('{"format": "something else"}')
    no_server = ["--url", "127.0.0.1:1"]
    cases = {
        "does not exist; create it with `clonedetect archive add`": [
            "scan",
            str(new),
            "--archive",
            str(tmp_path / "x"),
        ],
        "unknown scheme 'ftp'": ["scan", str(new), "--archive", "ftp://host/archive", *no_server],
        "name the database file": ["archive", "info", "--archive", "milvus-lite://"],
        "not a clonedetect archive": ["archive", "info", "--archive", str(not_an_archive)],
        f"archive {gone} does not exist": ["archive", "info", "--archive", gone],
        "nothing to archive": ["archive", "add", str(not_an_archive), "--archive", str(tmp_path / "a"), *no_server],
    }
    for message, arguments in cases.items():
        assert cli_main(arguments) == 2, message
        assert message in capsys.readouterr().err, message
    assert not (tmp_path / "a").exists() and not (tmp_path / "gone.db").exists()
    with pytest.raises(InvalidInputError, match="a scan needs one or more with an archive"):
        scan(None, [not_an_archive], archive=str(tmp_path / "not_an_archive"))
