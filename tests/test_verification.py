"""The verification stage's library: token sequences, greedy string tiling, evidence."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from clonedetect import paths, tiling
from clonedetect.literals import LiteralRarity
from clonedetect.preprocessing.validation import CodeInputError
from clonedetect.tiling import Tile, greedy_string_tiling
from clonedetect.token_sequence import NAME_SYMBOL, NUMBER_SYMBOL, STRING_SYMBOL, token_sequence
from clonedetect.verification import MAX_VERIFIED_TOKENS, verify, verify_request

RARITY = LiteralRarity.load(paths.literal_rarity_file())

FUNCTION = """int total(int n) {
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += i * i;
    }
    return s;
}
"""
OTHER = """int count(char *t) {
    int c = 0;
    while (*t) { if (*t == ' ') c++; t++; }
    return c;
}
"""


def test_names_numbers_and_strings_become_symbols_keywords_stay_lines_are_the_originals():
    sequence = token_sequence('/* a\ncomment */ int x = 42; // note\nprintf("%d", x);\n')
    assert sequence.symbols == (
        "int",
        NAME_SYMBOL,
        "=",
        NUMBER_SYMBOL,
        ";",
        "printf",
        "(",
        STRING_SYMBOL,
        ",",
        NAME_SYMBOL,
        ")",
        ";",
    )
    assert sequence.lines[0] == 2 and sequence.lines[-1] == 3  # the block comment's line still counts
    assert sequence.texts[1] == "x" and sequence.texts[3] == "42"


def test_renaming_and_comments_do_not_change_the_sequence():
    renamed = FUNCTION.replace("total", "sumsq").replace(" s", " acc").replace("s +=", "acc +=")
    commented = "// sum of squares\n" + renamed.replace("{\n", "{ /* loop */\n", 1)
    assert token_sequence(commented).symbols == token_sequence(FUNCTION).symbols


def test_tiling_finds_moved_blocks_each_token_once():
    a = list("abcdefghijklmnopqrstuvwxyz")
    b = a[13:] + list("0123") + a[:13]  # the two halves swapped, something added
    tiles = greedy_string_tiling(a, b, min_match=5)
    assert sorted(tiles, key=lambda t: t.start_a) == [Tile(0, 17, 13), Tile(13, 0, 13)]
    assert greedy_string_tiling(a, list("0123456789"), min_match=3) == []
    with pytest.raises(ValueError, match="min_match"):
        greedy_string_tiling(a, b, 0)


def test_matches_shorter_than_the_minimum_are_not_tiles():
    assert greedy_string_tiling(list("abcdxyz"), list("abcdqrs"), min_match=5) == []
    assert greedy_string_tiling(list("abcdexyz"), list("abcdeqrs"), min_match=5) == [Tile(0, 0, 5)]


def test_a_copy_covers_everything_an_unrelated_program_little():
    copy = verify(FUNCTION, FUNCTION.replace("total", "f").replace("s", "acc"))
    assert copy.average == pytest.approx(1.0) and copy.maximum == pytest.approx(1.0)
    assert copy.fragments[0].lines_a == (1, 7) and copy.fragments[0].lines_b == (1, 7)
    assert verify(FUNCTION, OTHER).average < 0.3


def test_padding_keeps_the_maximum_high_and_lowers_the_average():
    padded = OTHER + "\n" + FUNCTION + "\n" + OTHER.replace("count", "count2")
    result = verify(FUNCTION, padded)
    assert result.maximum == pytest.approx(1.0)
    assert result.average < 0.75
    (fragment,) = result.fragments
    assert fragment.lines_a == (1, 7) and fragment.lines_b == (7, 13)


def test_long_programs_are_aligned_on_their_first_tokens_and_the_evidence_says_so():
    long_code = "".join(f"int f{i}(int x) {{ return x + {i}; }}\n" for i in range(3000))  # 39,000 tokens
    started = time.monotonic()
    result = verify(long_code, long_code)
    assert time.monotonic() - started < 30
    assert result.tokens_a == 39_000 and result.verified_a == MAX_VERIFIED_TOKENS
    assert result.average > 0.9  # names and numbers are symbols: the first 20,000 tokens match
    assert json.loads(json.dumps(result.as_dict()))["verified_b"] == MAX_VERIFIED_TOKENS


def test_periodic_code_is_matched_in_bounded_time():
    started = time.monotonic()
    result = verify("x = 1;\n" * 4000, "y = 2;\n" * 3000 + "int z;")
    assert time.monotonic() - started < 20
    assert result.maximum > 0.999  # all of B's 3,000 statements are in A
    assert tiling.MAX_SEEDS_PER_GRAM < 3000


def test_a_request_is_verified_pair_by_pair_or_rejected_whole():
    codes_a = np.array([FUNCTION.encode(), OTHER.encode()], dtype=np.object_)
    scores, literal_scores, evidence = verify_request(codes_a, codes_a[::-1].copy(), RARITY)
    assert scores.dtype == literal_scores.dtype == np.float32 and scores.shape == literal_scores.shape == (2,)
    assert [json.loads(e)["average"] for e in evidence] == pytest.approx(list(scores))
    assert [json.loads(e)["literals"]["score"] for e in evidence] == pytest.approx(list(literal_scores))
    error = verify_request(codes_a, np.array([b"int x;", b"\xff"], dtype=np.object_), RARITY)
    assert isinstance(error, CodeInputError) and "CODE_B[1]" in str(error)
    unpaired = verify_request(codes_a, codes_a[:1], RARITY)
    assert isinstance(unpaired, CodeInputError) and "in pairs" in str(unpaired)
