"""Report how many obfuscated POJ-104 programs still pass ``g++ -fsyntax-only``, per level.

    python -m clonedetect.obfuscation.measure_validity --programs 50

Only programs whose original passes the same check are counted.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from clonedetect import data

from .levels import LEVELS
from .pipeline import obfuscate
from .syntax_checks import CompilerCheck


def measure(programs: int, seed: int) -> dict[int, tuple[int, int]]:
    """{level: (valid variants, variants)} over evenly spread POJ-104 validation programs."""
    everything = data.poj104_programs("valid")
    chosen = everything[:: max(1, len(everything) // programs)][:programs]
    counts = {level: [0, 0] for level in LEVELS}
    with tempfile.TemporaryDirectory() as folder:
        check = CompilerCheck("cpp", Path(folder))
        for program in chosen:
            code = program.read()
            if not check.passes(code):
                continue
            for level in LEVELS:
                counts[level][0] += check.passes(obfuscate(code, "cpp", level, seed=seed))
                counts[level][1] += 1
    return {level: (valid, total) for level, (valid, total) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    for level, (valid, total) in measure(arguments.programs, arguments.seed).items():
        share = valid / total if total else float("nan")
        print(f"level {level} ({LEVELS[level]}): {valid}/{total} variants pass g++ -fsyntax-only ({share:.1%})")


if __name__ == "__main__":
    main()
