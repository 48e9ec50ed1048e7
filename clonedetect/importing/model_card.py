"""The record of every import of a name (``imports.json``) and the model card made from it."""

from __future__ import annotations

import json
from pathlib import Path

from clonedetect.importing.model_configs import ModelNames
from clonedetect.importing.parity import INT8_MIN_COSINE, MAX_ABS_DIFF, PARITY_SAMPLES

IMPORTS_FILE = "imports.json"
MODEL_CARD_FILE = "MODEL_CARD.md"


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
    return ", ".join(parts)


def model_card(names: ModelNames, records: list[dict]) -> str:
    """A stub card: what was installed and how closely it matches its source; no quality claims."""
    rows = [
        f"| {r['version']} | {r['imported']} | `{r['source']}` | {r['architecture']} | {r['window']} | {r['dim']} "
        f"| {r['precision']} | {'yes' if r['optimised'] else 'no'} | {parity_text(r['parity'])} |"
        for r in records
    ]
    latest = records[-1]
    return f"""# {names.encoder} (imported)

An encoder installed by `clonedetect import-model`. `{names.embed}` takes `CODE` and returns
`EMBEDDING`, {latest["dim"]} floats: the L2-normalised mean of the model's last hidden states over
every token of a program. `{names.tokenizer}` splits a program into windows of {latest["window"]}
positions, each framed by the model's special tokens, so nothing is cut; the text is tokenised as
it is (no comment removal).

clonedetect neither trained nor evaluated this model: only its agreement with the source model
is checked. Its plagiarism and clone-search figures are unknown until measured.

| version | imported | source | architecture | window | dim | precision | optimised | parity |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Parity: the source model run window by window against the installed graph on one padded batch
of {len(PARITY_SAMPLES)} code samples (one longer than two 512-position windows): max abs diff of the
embeddings, at most {MAX_ABS_DIFF:.0e} for the export and for the onnxruntime-optimised graph (an
optimised graph that misses it is not installed); for INT8, the smallest cosine to the FP32
embeddings, at least {INT8_MIN_COSINE}. Only the newest version is served.
"""
