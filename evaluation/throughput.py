"""In-process encoder throughput: onnxruntime, batches of 32 programs of ~300 tokens.

    python -m clonedetect.evaluation.throughput [--model PATH] [--tokens 300] [--batch 32]

Real POJ-104 valid programs cut to ``--tokens`` tokens (the median POJ-104 program is
about that long), padded to a multiple of the 256-token window as ``code_tokenizer`` pads
them, one ``session.run`` per batch. Prints programs/s (median over repeats). The budget
for the shipped encoder on a 2-core machine is >= 60 programs/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from clonedetect.evaluation.poj104 import DEFAULT_MODEL, DEFAULT_TOKENIZER

TARGET_PROGRAMS_PER_S = 60.0


def benchmark(
    model: Path | str = DEFAULT_MODEL,
    tokenizer: Path | str = DEFAULT_TOKENIZER,
    tokens: int = 300,
    batch: int = 32,
    repeats: int = 20,
    threads: int | None = None,
) -> dict:
    from clonedetect import data
    from clonedetect.onnx_encoder import OnnxEncoder
    from clonedetect.preprocessing.tokenization import CodeTokenizer, pad_batch

    threads = threads or len(os.sched_getaffinity(0))
    encoder = OnnxEncoder(model, intra_op_threads=threads)
    codes = [p.read() for p in data.poj104_programs("valid")[::25]]
    ids = [s[:tokens] for s in CodeTokenizer.from_file(tokenizer).token_ids(codes) if len(s) >= tokens]
    padded_length = -(-tokens // encoder.window) * encoder.window
    batches = [pad_batch(ids[i : i + batch], padded_length) for i in range(0, len(ids) - batch + 1, batch)]
    for input_ids, mask in batches[:2]:  # warm-up
        encoder.embed(input_ids, mask)
    rates = []
    for r in range(repeats):
        input_ids, mask = batches[r % len(batches)]
        started = time.perf_counter()
        encoder.embed(input_ids, mask)
        rates.append(batch / (time.perf_counter() - started))
    return {
        "programs_per_s": statistics.median(rates),
        "best_programs_per_s": max(rates),
        "batch": batch,
        "tokens": tokens,
        "padded_to": padded_length,
        "threads": threads,
        "target_programs_per_s": TARGET_PROGRAMS_PER_S,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m clonedetect.evaluation.throughput", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    result = benchmark(args.model, args.tokenizer, args.tokens, args.batch, args.repeats, args.threads)
    verdict = "ok" if result["programs_per_s"] >= TARGET_PROGRAMS_PER_S else "BELOW TARGET"
    print(
        f"{result['programs_per_s']:.1f} programs/s (median; best {result['best_programs_per_s']:.1f}), "
        f"batch {result['batch']} x {result['tokens']} tokens padded to {result['padded_to']}, "
        f"{result['threads']} threads: {verdict} (target {TARGET_PROGRAMS_PER_S:.0f})"
    )
    return result


if __name__ == "__main__":
    main()
