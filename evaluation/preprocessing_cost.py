"""What reading declaration lists both ways costs, side by side with the step left out.

    python -m clonedetect.evaluation.preprocessing_cost [--limit N] [--repeats 5]

For POJ-104 valid (C/C++), BigCloneBench functions (Java) and Python stdlib files: how
many programs have a declaration list, how many more tokens the encoder gets, how many
programs need one more 256-token window, and the tokenizer step's time per program with
and without :func:`~clonedetect.preprocessing.declaration_lists.with_single_declarations`
(median of ``--repeats`` runs of each, alternating). docs/PERFORMANCE.md quotes it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from tokenizers import Tokenizer

from clonedetect.evaluation.poj104 import DEFAULT_TOKENIZER
from clonedetect.preprocessing.comments import strip_comments
from clonedetect.preprocessing.tokenization import tokenized_text

WINDOW = 256  # the encoder pads every program to whole windows of this many tokens
STEPS = {"without": strip_comments, "with": tokenized_text}


def corpora(limit: int | None) -> dict[str, list[str]]:
    from clonedetect import data

    return {
        "cpp": [p.read() for p in data.poj104_programs("valid")[:limit]],
        "java": [p.read_text(errors="replace") for p in list(data.bigclonebench_functions().values())[:limit]],
        "python": [p.read_text(errors="replace") for p in data.python_stdlib_files(limit)],
    }


def measure(codes: list[str], tokenizer: Tokenizer, repeats: int = 5) -> dict:
    """Token counts and tokenizer-step time per program without and with the declaration step."""

    def tokenize(step: str) -> list[int]:
        encodings = tokenizer.encode_batch([STEPS[step](c) for c in codes], add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    seconds: dict[str, list[float]] = {step: [] for step in STEPS}
    lengths = {}
    for r in range(repeats):
        for step in ("without", "with") if r % 2 == 0 else ("with", "without"):
            started = time.perf_counter()
            lengths[step] = np.array(tokenize(step))
            seconds[step].append(time.perf_counter() - started)
    before, after = lengths["without"], lengths["with"]
    return {
        "programs": len(codes),
        "with_a_list": float(np.mean(after != before)),
        "median_tokens": [float(np.median(before)), float(np.median(after))],
        "token_increase": float(after.sum() / before.sum() - 1),
        "another_window": float(np.mean(-(-after // WINDOW) > -(-before // WINDOW))),
        "ms_per_program": [1000 * statistics.median(seconds[step]) / len(codes) for step in STEPS],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.evaluation.preprocessing_cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many programs per corpus")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    tokenizer = Tokenizer.from_file(str(DEFAULT_TOKENIZER))
    results = {name: measure(codes, tokenizer, args.repeats) for name, codes in corpora(args.limit).items()}
    for name, r in results.items():
        before, after = r["ms_per_program"]
        print(
            f"{name}: {r['programs']} programs, {r['with_a_list']:.0%} with a declaration list, tokens "
            f"+{r['token_increase']:.1%} (median {r['median_tokens'][0]:.0f} -> {r['median_tokens'][1]:.0f}), "
            f"{r['another_window']:.1%} need another {WINDOW}-token window; tokenizer step "
            f"{before:.3f} -> {after:.3f} ms per program (x{after / before:.2f})"
        )
    return results


if __name__ == "__main__":
    main()
