"""Shared rare literals: extraction, rarity weights, the score and its evidence."""

from __future__ import annotations

import json
import math

import pytest

from clonedetect import paths
from clonedetect.literals import SHOWN_CHARS, SHOWN_LITERALS, LiteralRarity, shared_literals
from clonedetect.token_sequence import token_sequence
from clonedetect.verification import pair_signals

PROGRAM = """int main() {  // 42 in a comment is no literal
    int limit = 2718;
    printf("Total score: %d\\n", limit * 0);
    return 0;
}
"""
# The same program restructured by hand: renamed, the statements moved, a helper extracted.
RESTRUCTURED = """int report(int v) { printf("Total score: %d\\n", v * 0); return 0; }
int main() {
    int cap;
    cap = 2718;
    return report(cap);
}
"""
# An independent solution of the same task: the common literals only.
INDEPENDENT = """int main() {
    int n = 0;
    printf("%d\\n", n);
    return 0;
}
"""
BACKGROUND = [frozenset({"0", '"%d\\n"'})] * 50 + [frozenset({"0", "1"})] * 50


def _literals(code: str) -> frozenset[str]:
    return token_sequence(code).literals


def test_literals_are_numbers_and_strings_as_written_outside_comments():
    assert _literals(PROGRAM) == {"2718", '"Total score: %d\\n"', "0"}


def test_rarity_weighs_common_literals_little_and_unseen_ones_most():
    rarity = LiteralRarity.fit(BACKGROUND)
    assert rarity.documents == 100
    assert rarity.weight("0") == pytest.approx(math.log(101 / 101))
    assert rarity.weight('"%d\\n"') == pytest.approx(math.log(101 / 51))
    assert rarity.weight("2718") == pytest.approx(math.log(101))  # never seen: the largest weight


def test_rarity_keeps_only_literals_seen_twice_and_round_trips(tmp_path):
    rarity = LiteralRarity.fit([frozenset({"7", "é"}), frozenset({"7"}), frozenset({"é"}), frozenset({"once"})])
    assert dict(rarity.counts) == {"7": 2, "é": 2}
    rarity.save(tmp_path / "rarity.json")
    assert LiteralRarity.load(tmp_path / "rarity.json") == rarity


def test_a_restructured_copy_keeps_its_rare_literals_and_an_independent_solution_does_not():
    rarity = LiteralRarity.fit(BACKGROUND)
    copy = shared_literals(_literals(PROGRAM), _literals(RESTRUCTURED), rarity)
    independent = shared_literals(_literals(PROGRAM), _literals(INDEPENDENT), rarity)
    assert copy.score == pytest.approx(1.0)
    assert independent.score == 0.0  # "0" weighs nothing; "%d\n" is not in PROGRAM
    assert [text for text, _ in copy.shared] == ['"Total score: %d\\n"', "2718", "0"]  # rarest first, ties by text
    weights = [weight for _, weight in copy.shared]
    assert weights == sorted(weights, reverse=True)


def test_the_score_is_a_weighted_cosine_in_unit_range():
    rarity = LiteralRarity(10, {"1": 4})
    a, b = frozenset({"1", "x7"}), frozenset({"1", "y8"})
    w1, w_rare = math.log(11 / 5), math.log(11)
    expected = w1**2 / (w1**2 + w_rare**2)
    assert shared_literals(a, b, rarity).score == pytest.approx(expected)
    assert shared_literals(a, a, rarity).score == pytest.approx(1.0)
    assert shared_literals(frozenset(), a, rarity).score == 0.0


def test_the_evidence_lists_at_most_the_rarest_few_and_cuts_long_literals():
    many = frozenset({f'"{"x" * 200}"'} | {str(1000 + k) for k in range(3 * SHOWN_LITERALS)})
    shared = shared_literals(many, many, LiteralRarity(10, {}))
    shown = shared.as_dict()["shared"]
    assert len(shown) == SHOWN_LITERALS
    assert all(len(entry["text"]) <= SHOWN_CHARS for entry in shown)
    assert any(entry["text"].endswith("…") for entry in shown)


def test_pair_signals_score_what_the_served_evidence_reports():
    import numpy as np

    from clonedetect.verification import verify_request

    rarity = LiteralRarity.load(paths.literal_rarity_file())
    verification, shared = pair_signals([PROGRAM, PROGRAM], [RESTRUCTURED, INDEPENDENT], rarity)
    codes_a = np.array([PROGRAM.encode()] * 2, dtype=np.object_)
    codes_b = np.array([RESTRUCTURED.encode(), INDEPENDENT.encode()], dtype=np.object_)
    served_tiling, served_literals, evidence = verify_request(codes_a, codes_b, rarity)
    np.testing.assert_allclose(verification, served_tiling, rtol=1e-6)
    np.testing.assert_allclose(shared, served_literals, rtol=1e-6)
    assert shared[0] > 0.9 > 0.3 > shared[1]
    assert json.loads(evidence[0])["literals"]["shared"][0]["text"] == '"Total score: %d\\n"'


def test_the_shipped_rarity_counts_the_training_corpora():
    rarity = LiteralRarity.load(paths.literal_rarity_file())
    assert rarity.documents > 10_000
    assert rarity.weight("0") < 1.0 < rarity.weight("2718")
