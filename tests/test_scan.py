"""`clonedetect scan`: discovery, base code, author map, aggregation, clusters and the
JSON schema without a server (a local stand-in backend), then the real thing on Triton."""

from __future__ import annotations

import csv
import io
import json
import os
import zlib

import numpy as np
import pytest

from clonedetect.cli import main as cli_main
from clonedetect.client import CloneDetectorClient, InvalidInputError
from clonedetect.client.protocol import Comparison
from clonedetect.literals import LiteralRarity
from clonedetect.paths import PROJECT_ROOT, literal_rarity_file
from clonedetect.scanning import discover_submissions, run_scan, scan, similarity
from clonedetect.scanning.authors import authors_of, read_author_map
from clonedetect.scanning.base_code import BaseCode, base_code_lines, blank_lines, prepare
from clonedetect.scanning.candidates import cap_candidates, exclude_same_author, select_candidates
from clonedetect.scanning.clusters import clusters
from clonedetect.scanning.inputs import SourceFile, read_base_code, submissions_from_mapping
from clonedetect.scanning.progress import TerminalProgress
from clonedetect.scanning.similarity import FileLayout, best_file_pair, submission_similarity
from clonedetect.scanning.writers import CSV_COLUMNS, to_csv, to_table
from clonedetect.token_sequence import token_sequence
from clonedetect.verification import verify_pair

SAMPLES = PROJECT_ROOT / "tests" / "samples"
ASSIGNMENT = SAMPLES / "assignment"
BASE = SAMPLES / "assignment_base"
RARITY = LiteralRarity.load(literal_rarity_file())
ALICE, BOB, CAROL, DAVE = (str(ASSIGNMENT / name) for name in ("alice.c", "bob", "carol.c", "dave.c"))


class LocalBackend:
    """Stands in for the server: token-trigram embeddings, and the real verification stage
    for the evidence, whose share of matched tokens serves as the probability."""

    def __init__(self):
        self.embedded: list[str] = []
        self.compared: list[tuple[str, str]] = []

    def embed(self, codes: list[str]) -> np.ndarray:
        self.embedded += codes
        vectors = np.zeros((len(codes), 256), dtype=np.float32)
        for row, code in enumerate(codes):
            symbols = token_sequence(code).symbols
            for gram in zip(symbols, symbols[1:], symbols[2:], strict=False):
                vectors[row, zlib.crc32(" ".join(gram).encode()) % 256] += 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def compare_many(self, pairs: list[tuple[str, str]]) -> list[Comparison]:
        self.compared += pairs
        results = []
        for a, b in pairs:
            cosine = float(np.dot(*self.embed([a, b])))
            tiles, common = verify_pair(token_sequence(a), token_sequence(b), RARITY)
            evidence = {**tiles.as_dict(), "literals": common.as_dict()}
            results.append(Comparison(cosine, evidence["average"], evidence["average"], evidence))
        return results


def file_lines(pair, which: str) -> set[int]:
    return {line for f in pair.fragments for line in range(f[f"lines_{which}"][0], f[f"lines_{which}"][1] + 1)}


# -- discovery --------------------------------------------------------------------------
def test_discovery_names_submissions_as_given_and_lists_every_skipped_file_with_its_reason():
    found = discover_submissions([str(ASSIGNMENT)])
    assert [s.name for s in found.submissions] == [ALICE, BOB, CAROL, DAVE]
    bob = found.submissions[1]
    assert [f.path for f in bob.files] == [os.path.join(BOB, name) for name in ("main.c", "stats.c", "stats.h")]
    assert {f.language for f in bob.files} == {"c"}
    assert {s.path: s.reason for s in found.skipped} == {
        os.path.join(BOB, "NOTES.txt"): "unsupported suffix .txt",
        str(ASSIGNMENT / "erin.c"): "empty",
        str(ASSIGNMENT / "frank.c"): "not valid UTF-8 (byte 0xe9 at offset 18)",
    }


def test_discovery_of_unreadable_comment_only_foreign_and_empty_entries(tmp_path):
    (tmp_path / "a.java").write_text("class A { int f() { return 1; } }")
    (tmp_path / "b.c").write_text("/* nothing but a comment */\n// and another\n")
    (tmp_path / "c.py").write_text("print(1)\n")
    (tmp_path / "empty_dir").mkdir()
    os.symlink(tmp_path / "missing.c", tmp_path / "dangling.c")
    found = discover_submissions([str(tmp_path)], language="java")
    assert [s.name for s in found.submissions] == [str(tmp_path / "a.java")]
    reasons = {os.path.basename(s.path): s.reason for s in found.skipped}
    assert reasons == {
        "b.c": "not a java file (--language java)",
        "c.py": "not a java file (--language java)",
        "dangling.c": "not a java file (--language java)",
        "empty_dir": "empty directory",
    }
    by_suffix = {os.path.basename(s.path): s.reason for s in discover_submissions([str(tmp_path)]).skipped}
    assert by_suffix["b.c"] == "no code, only comments"
    assert by_suffix["dangling.c"].startswith("cannot read: ")


def test_missing_or_non_directory_input_and_too_few_submissions_are_input_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        discover_submissions([str(tmp_path / "nope")])
    with pytest.raises(InvalidInputError, match="is not a directory"):
        discover_submissions([ALICE])
    (tmp_path / "only.c").write_text("int main(void) { int x = 1; return x + 2 * x; }")
    with pytest.raises(InvalidInputError, match="found 1 usable submission"):
        scan(LocalBackend(), [str(tmp_path)])
    with pytest.raises(InvalidInputError, match="not a single path"):
        scan(LocalBackend(), str(ASSIGNMENT))
    with pytest.raises(InvalidInputError, match="threshold 1.5"):
        scan(LocalBackend(), [str(ASSIGNMENT)], threshold=1.5)


# -- author map ---------------------------------------------------------------------------
def test_author_map_matches_full_names_or_basenames_and_rejects_bad_files(tmp_path):
    good = tmp_path / "authors.csv"
    good.write_text(f"submission,author\nalice.c,sam\n{CAROL},sam\n\nbob,kim\n")
    mapping = read_author_map(str(good))
    assert authors_of([ALICE, BOB, CAROL, DAVE], mapping) == ["sam", "kim", "sam", None]
    bad_files = {
        "noheader.csv": "alice.c,sam\n",
        "columns.csv": "submission,author\nalice.c\n",
        "conflict.csv": "submission,author\nalice.c,sam\nalice.c,kim\n",
    }
    for name, text in bad_files.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InvalidInputError, match=str(tmp_path / name)):
            read_author_map(str(tmp_path / name))
    with pytest.raises(InvalidInputError, match="cannot read author map"):
        read_author_map(str(tmp_path / "missing.csv"))


def test_submissions_of_one_author_are_never_compared():
    backend = LocalBackend()
    result = scan(backend, [str(ASSIGNMENT)], authors={"alice.c": "sam", "carol.c": "sam"}, top_k=3)
    names = {frozenset((p.a, p.b)) for p in result.candidates}
    assert frozenset((ALICE, CAROL)) not in names
    assert frozenset((ALICE, DAVE)) in names  # the other pairs still are
    assert result.submissions[0].author == "sam" and result.submissions[3].author is None


# -- base code ----------------------------------------------------------------------------
def test_base_code_lines_are_blanked_line_numbers_kept_and_counted():
    base = BaseCode.of(read_base_code(str(BASE)).submissions[0].files)
    alice = SourceFile(ALICE, "c", (ASSIGNMENT / "alice.c").read_text())
    prepared = prepare(alice, base)
    lines = base_code_lines(token_sequence(alice.text), "c", base)
    assert set(range(4, 17)) <= lines and set(range(56, 65)) <= lines  # the skeleton's functions
    assert not lines & set(range(19, 55))  # the student's own code stays
    assert prepared.text.count("\n") == alice.text.count("\n")
    assert "read_values(int values[]" not in prepared.text and "most_frequent" in prepared.text
    own = len(token_sequence(prepared.text))
    assert prepared.base_code_tokens == prepared.tokens - own > 100
    python_base = BaseCode.of([SourceFile("base.py", "python", alice.text)])
    assert not base_code_lines(token_sequence(alice.text), "c", python_base)  # other languages: untouched


def test_blanking_a_line_that_opens_a_block_comment_does_not_turn_the_comment_into_code():
    text = "int a = f(1); /* starts\nint looks_like_code = 2;\n*/ int b;\n"
    assert token_sequence(blank_lines(text, {1})).texts == ("int", "b", ";")


def test_base_code_is_never_evidence_and_its_share_is_reported():
    backend = LocalBackend()
    plain = scan(LocalBackend(), [str(ASSIGNMENT)], top_k=3)
    with_base = scan(backend, [str(ASSIGNMENT)], base_code=str(BASE), top_k=3)
    skeleton = set(range(4, 17)) | set(range(56, 65))  # alice.c's and dave.c's copies of the skeleton

    def alice_dave(result):
        return next(p for p in result.candidates if {p.a, p.b} == {ALICE, DAVE})

    assert file_lines(alice_dave(plain), "a") & skeleton
    assert not file_lines(alice_dave(with_base), "a") & skeleton
    assert not file_lines(alice_dave(with_base), "b") & skeleton
    shares = {s.name: s.base_code_share for s in with_base.submissions}
    assert 0.2 < shares[ALICE] < 0.5 and all(s.base_code_share == 0 for s in plain.submissions)
    bob = next(s for s in with_base.submissions if s.name == BOB)
    assert [f.compared for f in bob.files] == [False, True, False]  # main.c and stats.h are all skeleton
    assert not any("read_values(int values[]" in code for code in backend.embedded)  # never embedded


# -- similarity, candidates, clusters --------------------------------------------------------
def _unit(*rows) -> np.ndarray:
    array = np.array(rows, dtype=np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_submission_similarity_is_the_max_over_file_pairs_of_one_language_family(monkeypatch):
    embeddings = _unit([1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0, 0.2, 1], [0, 1, 0.05])
    layout = FileLayout(starts=np.array([0, 2, 4, 5]), families=np.array([0, 0, 0, 0, 1]))
    matrix = submission_similarity(embeddings, layout)
    assert matrix[0, 1] == pytest.approx(embeddings[0] @ embeddings[2]) and matrix[0, 1] == matrix[1, 0]
    assert matrix[0, 2] == -np.inf  # file 4 is of another family: never compared
    assert best_file_pair(embeddings, layout, 0, 1) == (0, 2)
    monkeypatch.setattr(similarity, "BLOCK_ROWS", 1)  # blocks that split a submission: the same answer
    assert np.array_equal(submission_similarity(embeddings, layout), matrix)


def test_candidates_are_pairs_above_the_floor_plus_each_top_k_never_excluded_ones():
    matrix = np.array(
        [[1, 0.9, 0.2, 0.1], [0.9, 1, 0.3, 0.2], [0.2, 0.3, 1, 0.05], [0.1, 0.2, 0.05, 1]], dtype=np.float32
    )
    masked = exclude_same_author(matrix, [None, None, "x", "x"])
    assert select_candidates(masked, floor=0.5, top_k=0) == [(0, 1)]
    assert select_candidates(masked, floor=0.5, top_k=1) == [(0, 1), (1, 2), (1, 3)]
    assert (2, 3) not in select_candidates(masked, floor=-1.0, top_k=3)
    assert np.isneginf(np.diag(masked)).all()


def test_the_cap_keeps_the_most_similar_candidates_in_their_order():
    similarity = np.array([[0, 0.9, 0.2, 0.7], [0.9, 0, 0.7, 0.1], [0.2, 0.7, 0, 0.8], [0.7, 0.1, 0.8, 0]])
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)]
    assert cap_candidates(pairs, similarity, None) == (pairs, 0)
    assert cap_candidates(pairs, similarity, 5) == (pairs, 0)
    assert cap_candidates(pairs, similarity, 3) == ([(0, 1), (0, 3), (2, 3)], 2)  # 0.7 tie: the first listed
    assert cap_candidates(pairs, similarity, 1) == ([(0, 1)], 4)


def test_max_verified_caps_what_the_server_verifies_and_says_how_many_were_left(capsys):
    backend = LocalBackend()
    everything = scan(backend, [str(ASSIGNMENT)], top_k=3, max_verified=None)
    capped = scan(LocalBackend(), [str(ASSIGNMENT)], top_k=3, max_verified=1)
    assert len(everything.candidates) > 1 and everything.unverified == 0
    assert len(capped.candidates) == 1 and capped.unverified == len(everything.candidates) - 1
    assert capped.candidates[0].similarity == max(p.similarity for p in everything.candidates)
    assert capped.to_dict()["settings"]["max_verified"] == 1
    assert "not verified (--max-verified)" in to_table(capped).splitlines()[0]
    with pytest.raises(InvalidInputError, match="max_verified 0"):
        scan(backend, [str(ASSIGNMENT)], max_verified=0)
    with pytest.raises(SystemExit) as exit_status:
        cli_main(["scan", str(ASSIGNMENT), "--max-verified", "-1"])
    assert exit_status.value.code == 2
    assert "negative" in capsys.readouterr().err


def test_clusters_are_connected_components_strongest_first():
    edges = [("b", "c", 0.9), ("a", "b", 0.7), ("d", "e", 0.95), ("f", "g", 0.6)]
    found = clusters(edges, order=["a", "b", "c", "d", "e", "f", "g"])
    assert [c.members for c in found] == [("d", "e"), ("a", "b", "c"), ("f", "g")]
    assert found[1].pairs == 2 and found[1].max_probability == 0.9
    assert found[1].mean_probability == pytest.approx(0.8)


# -- the result -----------------------------------------------------------------------------
def test_scan_result_json_schema_csv_and_table():
    result = scan(LocalBackend(), [str(ASSIGNMENT)], base_code=str(BASE), threshold=0.5)
    document = json.loads(json.dumps(result.to_dict()))
    assert set(document) == {"schema_version", "settings", "summary", "submissions", "skipped", "pairs", "clusters"}
    assert document["settings"] == {
        "threshold": 0.5,
        "min_similarity": 0.6,
        "top_k": 3,
        "language": None,
        "base_code": str(BASE),
        "author_map": None,
        "archive": None,
        "max_verified": 1000,
        "common_code_share": 0.2,
    }
    assert document["summary"]["unverified_candidates"] == 0
    pair = document["pairs"][0]
    assert set(pair) == {
        "a",
        "b",
        "probability",
        "similarity",
        "verification",
        "literals",
        "file_a",
        "file_b",
        "fragments",
        "shared_literals",
        "b_archive",
    }
    assert pair["b_archive"] is None
    assert (pair["a"], pair["b"]) == (ALICE, CAROL)
    assert set(pair["fragments"][0]) >= {"lines_a", "lines_b", "tokens"}
    shares = {"base_code_share", "common_code_share"}
    assert set(document["submissions"][0]) == {"name", "author", "tokens", "files"} | shares
    assert set(document["submissions"][0]["files"][0]) == {
        "path",
        "language",
        "tokens",
        "base_code_tokens",
        "compared",
        "base_code_lines",
        "common_code_tokens",
        "common_code_lines",
    }
    assert document["submissions"][0]["files"][0]["base_code_lines"][0] == [4, 16]
    assert document["clusters"][0]["members"] == [ALICE, CAROL]
    assert document["summary"]["reported_pairs"] == len(document["pairs"]) > 0
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(result.candidates)
    table = to_table(result)
    assert ALICE in table.splitlines()[3] and "frank.c: not valid UTF-8" in table


def test_in_memory_submissions_and_base_code():
    skeleton = 'int read(int *v) {\n  int n = 0;\n  while (scanf("%d", &v[n]) == 1) n++;\n  return n;\n}\n'
    own = "int twice(int x) {\n  int y = x + x;\n  if (y > 100) { y = y - 100; }\n  return y * 3 + 1;\n}\n"
    mapping = {"ann": {"a.c": skeleton + own}, "ben": {"b.c": skeleton + own.replace("x", "q")}, "cy": {"c.txt": "x"}}
    found = submissions_from_mapping(mapping)
    assert [s.name for s in found.submissions] == ["ann", "ben"] and found.skipped[0].path == "cy/c.txt"
    result = run_scan(found.submissions, LocalBackend(), base=BaseCode.of([SourceFile("s.c", "c", skeleton)]))
    (pair,) = result.pairs
    assert pair.file_a == "ann/a.c" and file_lines(pair, "a") <= set(range(6, 11))


def test_progress_draws_only_on_a_terminal():
    class Stream(io.StringIO):
        def __init__(self, tty: bool):
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    quiet, terminal = Stream(False), Stream(True)
    for stream in (quiet, terminal):
        progress = TerminalProgress(stream)
        progress("embedding", 10, 10)
        progress.close()
    assert quiet.getvalue() == "" and "embedding 10/10" in terminal.getvalue()


def test_cli_bad_input_exits_2_with_a_clear_message(tmp_path, capsys):
    bad_map = tmp_path / "authors.csv"
    bad_map.write_text("name;who\n")
    cases = {
        "does not exist": [str(tmp_path / "missing")],
        "threshold 1.5": [str(ASSIGNMENT), "--threshold", "1.5"],
        "must start with the header": [str(ASSIGNMENT), "--author-map", str(bad_map)],
        "a scan needs two or more": [str(tmp_path)],
        "cannot write": [str(ASSIGNMENT), "--json", str(tmp_path / "no" / "out.json")],
    }
    for message, arguments in cases.items():
        assert cli_main(["scan", *arguments, "--url", "127.0.0.1:1"]) == 2, message
        assert message in capsys.readouterr().err


# -- on the real server ----------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_scan_on_triton_ranks_the_disguised_copy_first_and_nothing_else(triton, protocol):
    url = triton.http_url if protocol == "http" else triton.grpc_url
    with CloneDetectorClient(url, protocol=protocol, timeout=60) as client:
        result = client.scan([ASSIGNMENT], base_code=BASE)
    assert [(p.a, p.b) for p in result.pairs] == [(ALICE, CAROL)]
    assert result.pairs[0].probability > 0.9 and result.pairs[0].fragments
    assert {frozenset((p.a, p.b)) for p in result.candidates} >= {frozenset((ALICE, DAVE)), frozenset((BOB, DAVE))}
    assert all(p.probability < 0.5 for p in result.candidates[1:])
    base = BaseCode.of(read_base_code(str(BASE)).submissions[0].files)
    for pair in result.candidates:
        for which, path in (("a", pair.file_a), ("b", pair.file_b)):
            text = open(path, encoding="utf-8").read()
            assert not file_lines(pair, which) & base_code_lines(token_sequence(text), "c", base), (pair, which)
    assert {os.path.basename(s.path) for s in result.skipped} == {"NOTES.txt", "erin.c", "frank.c"}
    assert [c.members for c in result.clusters] == [(ALICE, CAROL)]


@pytest.mark.integration
def test_scan_cli_writes_json_and_csv_and_honours_the_author_map(triton, tmp_path, capsys):
    json_path, csv_path, authors = tmp_path / "scan.json", tmp_path / "pairs.csv", tmp_path / "authors.csv"
    common = [str(ASSIGNMENT), "--base-code", str(BASE), "--url", triton.http_url]
    assert cli_main(["scan", *common, "--json", str(json_path), "--csv", str(csv_path)]) == 0
    assert capsys.readouterr().out == ""  # --json: no table
    document = json.loads(json_path.read_text())
    assert (document["pairs"][0]["a"], document["pairs"][0]["b"]) == (ALICE, CAROL)
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == document["summary"]["candidate_pairs"] and float(rows[0]["probability"]) > 0.9
    authors.write_text("submission,author\nalice.c,sam\ncarol.c,sam\n")
    assert cli_main(["scan", *common, "--author-map", str(authors)]) == 0
    table = capsys.readouterr().out
    assert "0 reported" in table and "no pair reached probability 0.5" in table
