"""Hostile input to the library code every served model runs, and to the client's checks:
each call returns a valid result or raises the module's documented input error, in bounded
time (hypothesis generates the input; the slowest known shapes are checked by name)."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clonedetect import paths
from clonedetect.client import InvalidInputError
from clonedetect.client import protocol as wire
from clonedetect.literals import LiteralRarity
from clonedetect.preprocessing.comments import comment_spans, strip_comments
from clonedetect.preprocessing.tokenization import CodeTokenizer
from clonedetect.preprocessing.validation import MAX_CODE_BYTES, CodeInputError, decode_code
from clonedetect.scoring import Calibration, score
from clonedetect.tiling import greedy_string_tiling
from clonedetect.verification import verify_request

RARITY = LiteralRarity.load(paths.literal_rarity_file())

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = ["(", ")", "{", "}", "[", "]", "/*", "*/", "//", "#", '"', "'", '"""', "'''", "\\", "\n", " ", "\t", ":", ";"]
PIECES += ["int", "x", "1", "def", "return", "é", "\u2028", "\x00", "#include", "a, b", "for (;;)"]
# Programs built of the characters that matter to the scanners: brackets, comment and string
# delimiters, escapes, odd whitespace; unbalanced as often as not.
programs = st.lists(st.sampled_from(PIECES), max_size=400).map("".join) | st.text(max_size=2000)
raw_inputs = st.binary(max_size=3000) | programs | programs.map(lambda s: s.encode("utf-8", "surrogatepass"))


@pytest.fixture(scope="module")
def tokenizer() -> CodeTokenizer:
    return CodeTokenizer.from_file(paths.tokenizer_file())


@FAST
@given(raw=raw_inputs)
def test_decode_code_returns_text_or_raises_its_input_error(raw):
    try:
        text = decode_code(raw)
    except CodeInputError as error:
        assert str(error)
    else:
        assert isinstance(text, str) and text.strip()


@FAST
@given(code=programs)
def test_comment_removal_and_tokenisation_always_give_ids(tokenizer, code):
    stripped = strip_comments(code)
    assert stripped.count("\n") <= code.count("\n")
    assert all(0 <= start < end <= len(code) for start, end in comment_spans(code))
    (ids,) = tokenizer.token_ids([code])
    assert ids.dtype == np.int64 and len(ids) >= 1


@FAST
@given(a=raw_inputs, b=raw_inputs)
def test_verify_request_scores_a_pair_or_rejects_it(a, b):
    result = verify_request(np.array([a], dtype=np.object_), np.array([b], dtype=np.object_), RARITY)
    if isinstance(result, CodeInputError):
        return
    scores, literal_scores, evidence = result
    assert scores.shape == literal_scores.shape == (1,) and evidence[0].startswith("{")
    assert 0.0 <= scores[0] <= 1.0 and 0.0 <= literal_scores[0] <= 1.0


@FAST
@given(a=st.lists(st.sampled_from("abc"), max_size=300), b=st.lists(st.sampled_from("abc"), max_size=300))
def test_tiles_never_overlap_and_match_their_tokens(a, b):
    covered_a, covered_b = set(), set()
    for tile in greedy_string_tiling(a, b, 3):
        span_a = set(range(tile.start_a, tile.start_a + tile.length))
        span_b = set(range(tile.start_b, tile.start_b + tile.length))
        assert not span_a & covered_a and not span_b & covered_b
        assert a[tile.start_a : tile.start_a + tile.length] == b[tile.start_b : tile.start_b + tile.length]
        covered_a |= span_a
        covered_b |= span_b


finite = st.floats(-(2.0**60), 2.0**60, allow_nan=False, width=32)


@FAST
@given(
    a=st.lists(finite, min_size=4, max_size=4),
    b=st.lists(finite, min_size=4, max_size=4),
    verification=st.floats(0, 1),
    literals=st.floats(0, 1),
)
def test_score_is_a_cosine_and_a_probability_for_any_finite_embeddings(a, b, verification, literals):
    similarity, probability = score(
        np.array([a], dtype=np.float32),
        np.array([b], dtype=np.float32),
        np.array([verification]),
        np.array([literals]),
        Calibration((4.0, 6.0, 1.0), -5.0),
    )
    assert -1.0001 <= similarity[0] <= 1.0001 and 0.0 <= probability[0] <= 1.0


@FAST
@given(items=st.lists(raw_inputs | st.integers() | st.none() | st.lists(st.text(max_size=3)), max_size=5))
def test_the_client_packs_programs_or_raises_invalid_input(items):
    try:
        packed = wire.encode_codes(items)
    except InvalidInputError as error:
        assert "code[" in str(error)
    else:
        assert packed.shape == (len(items), 1)


def _distinct_length_blocks(rng: random.Random, alphabet: list[str]) -> tuple[str, str]:
    """Two ~20,000-token programs of random blocks of every length from 12 up, in opposite
    orders: one tiling round per block length, the slowest input known to the verifier."""
    blocks, length, total = [], 12, 0
    while total < 19_500:
        blocks.append(" ".join(rng.choice(alphabet) for _ in range(length)))
        total, length = total + length + 2, length + 1
    return " if ".join(blocks), " while ".join(reversed(blocks))


SLOW_INPUTS = {
    "1 MB of one repeated token": lambda: ("x " * (MAX_CODE_BYTES // 2),) * 2,
    "1 MB of nested brackets": lambda: ("(" * (MAX_CODE_BYTES // 2) + ")" * (MAX_CODE_BYTES // 2),) * 2,
    "blocks of distinct lengths": lambda: _distinct_length_blocks(random.Random(0), list("(){};,+-*=<>")),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(SLOW_INPUTS))
def test_the_slowest_known_inputs_take_bounded_time(tokenizer, name):
    code_a, code_b = SLOW_INPUTS[name]()
    started = time.monotonic()
    tokenizer.token_ids([code_a])
    verify_request(np.array([code_a.encode()], dtype=np.object_), np.array([code_b.encode()], dtype=np.object_), RARITY)
    assert time.monotonic() - started < 20  # ~2-4 s measured on 2 shared cores (docs/RELIABILITY.md)


def test_one_byte_over_the_limit_is_rejected_before_any_work():
    with pytest.raises(CodeInputError, match="the limit is 1000000 bytes"):
        decode_code(b"x" * (MAX_CODE_BYTES + 1))
