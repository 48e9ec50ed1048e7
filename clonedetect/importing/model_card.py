"""The record of every import of a name (``imports.json``) and the model card made from it."""

from __future__ import annotations

import json
from pathlib import Path

from clonedetect.importing.model_configs import ModelNames
from clonedetect.importing.pair_parity import INT8_MAX_ABS_DIFF, PARITY_PAIRS
from clonedetect.importing.pair_windows import MAX_WINDOW_PAIRS
from clonedetect.importing.parity import INT8_MIN_COSINE, MAX_ABS_DIFF, PARITY_SAMPLES

IMPORTS_FILE = "imports.json"
MODEL_CARD_FILE = "MODEL_CARD.md"
# What a record's "kind" says was imported (records without one are encoders).
ENCODER_KIND, CROSS_ENCODER_KIND = "encoder", "cross-encoder"


def read_records(model_folder: Path) -> list[dict]:
    path = model_folder / IMPORTS_FILE
    return json.loads(path.read_text())["imports"] if path.is_file() else []


def write_records(model_folder: Path, records: list[dict]) -> None:
    (model_folder / IMPORTS_FILE).write_text(json.dumps({"imports": records}, indent=2) + "\n")


def parity_text(parity: dict) -> str:
    parts = [f"export {parity['export_max_abs_diff']:.1e}"]
    if parity.get("optimised_max_abs_diff") is not None:
        parts.append(f"optimised {parity['optimised_max_abs_diff']:.1e}")
    if parity.get("int8_min_cosine") is not None:
        parts.append(f"INT8 min cosine {parity['int8_min_cosine']:.4f}")
    if parity.get("int8_max_abs_diff") is not None:
        parts.append(f"INT8 {parity['int8_max_abs_diff']:.1e}")
    return ", ".join(parts)


def _table(records: list[dict], column: str, key: str) -> str:
    """One row per import: what it was made from, its shape, precision and parity figures."""
    rows = [
        f"| {r['version']} | {r['imported']} | `{r['source']}` | {r['architecture']} | {r['window']} | {r[key]} "
        f"| {r['precision']} | {'yes' if r['optimised'] else 'no'} | {parity_text(r['parity'])} |"
        for r in records
    ]
    return f"""| version | imported | source | architecture | window | {column} | precision | optimised | parity |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}"""


def model_card(names: ModelNames, records: list[dict]) -> str:
    """A stub card: what was installed and how closely it matches its source; no quality claims."""
    latest = records[-1]
    if latest.get("kind") == CROSS_ENCODER_KIND:
        return cross_encoder_card(names, records)
    return f"""# {names.encoder} (imported)

An encoder installed by `clonedetect import-model`. `{names.embed}` takes `CODE` and returns
`EMBEDDING`, {latest["dim"]} floats: the L2-normalised mean of the model's last hidden states over
every token of a program. `{names.tokenizer}` splits a program into windows of {latest["window"]}
positions, each framed by the model's special tokens, so nothing is cut; the text is tokenised as
it is (no comment removal).

clonedetect neither trained nor evaluated this model: only its agreement with the source model
is checked. Its plagiarism and clone-search figures are unknown until measured.

{_table(records, "dim", "dim")}

Parity: the source model run window by window against the installed graph on one padded batch
of {len(PARITY_SAMPLES)} code samples (one longer than two 512-position windows): max abs diff of the
embeddings, at most {MAX_ABS_DIFF:.0e} for the export and for the onnxruntime-optimised graph (an
optimised graph that misses it is not installed); for INT8, the smallest cosine to the FP32
embeddings, at least {INT8_MIN_COSINE}. Only the newest version is served.
"""


def cross_encoder_card(names: ModelNames, records: list[dict]) -> str:
    latest = records[-1]
    return f"""# {names.encoder} (imported cross-encoder)

A sequence-classification model installed by `clonedetect import-model --cross-encoder`.
`{names.compare}` takes `CODE_A` and `CODE_B` and returns what `clone_compare` returns:
`PROBABILITY`, the model's probability that the two are clones ({latest["score"]}), and
`SIMILARITY`, the same score (a cross-encoder has no cosine); `VERIFICATION` and `EVIDENCE`
come from the shipped `clone_verifier`. `{names.tokenizer}` lays the two programs out as the
model's own pair (its special tokens and token types) in windows of {latest["window"]} positions.
A pair too long for one window is split into chunks and every chunk of `CODE_A` is scored
against every chunk of `CODE_B`; the score is the highest. Nothing is cut: a pair needing more
than {MAX_WINDOW_PAIRS} window pairs is refused. `CODE_A` is the model's first segment: the score of
(A, B) may differ from that of (B, A).

clonedetect neither trained nor evaluated this model: only its agreement with the source model
is checked. Its plagiarism-detection figures are unknown until measured.

{_table(records, "score", "score")}

Parity: the source model scoring each window pair alone against the installed graph on one
padded batch of {len(PARITY_PAIRS)} pairs of code samples (one pair needing several windows):
max abs diff of the probabilities, at most {MAX_ABS_DIFF:.0e} for the export and for the
onnxruntime-optimised graph (an optimised graph that misses it is not installed); for INT8, at
most {INT8_MAX_ABS_DIFF}. Only the newest version is served.
"""
