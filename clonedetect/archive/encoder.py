"""Which encoder an archive's embeddings come from, so that no scan mixes two.

Cosines between embeddings of two encoders (FP32 and INT8, or a retrained model) mean
nothing, and nothing in the numbers shows it. Triton's API tells the ensemble and the
encoder version it calls, not the ONNX file's hash, so the record also holds a *probe*:
the embedding of a fixed program. A retrained encoder published under the same version
number answers the probe differently; the same encoder on another machine (CPU or GPU
arithmetic) answers it within float noise.
"""

from __future__ import annotations

import numpy as np

from clonedetect.client.errors import InvalidInputError
from clonedetect.paths import ENCODER_MODEL

PROBE_PROGRAM = """\
#include <stdio.h>

static int gcd(int a, int b) {
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int main(void) {
    int total = 0;
    for (int i = 1; i <= 20; i++) {
        total += gcd(i * 6, 84);
    }
    printf("%d\\n", total);
    return 0;
}
"""
PROBE_COSINE = 0.999  # the same encoder on other hardware stays far above this
IDENTITY_KEYS = ("embed_model", "encoder_model", "encoder_version", "dim")


def _encoder_version(backend) -> int | None:
    """The encoder version the embedding ensemble calls, from its Triton config (None for
    a backend without one, such as a test's stand-in)."""
    read_config = getattr(backend, "model_config", None)
    if read_config is None:
        return None
    config = read_config(backend.embed_model)
    for step in config.get("ensemble_scheduling", {}).get("step", []):
        if step.get("model_name") == ENCODER_MODEL:
            return int(step.get("model_version", -1))
    return None


def identify_encoder(backend) -> dict:
    """The record of the encoder behind ``backend`` (one config read, one embedding)."""
    probe = np.asarray(backend.embed([PROBE_PROGRAM]), dtype=np.float32)[0]
    probe /= max(float(np.linalg.norm(probe)), 1e-12)
    return {
        "embed_model": getattr(backend, "embed_model", None),
        "encoder_model": ENCODER_MODEL,
        "encoder_version": _encoder_version(backend),
        "precision": getattr(backend, "precision", None),
        "dim": int(probe.shape[0]),
        "probe": [round(float(v), 6) for v in probe],
    }


def describe(encoder: dict) -> str:
    return (
        f"{encoder['embed_model']} ({encoder['encoder_model']} version {encoder['encoder_version']}, "
        f"{encoder['precision']}, {encoder['dim']}-d)"
    )


def check_same_encoder(archived: dict | None, current: dict, location: str) -> None:
    """Refuse, with what differs, when ``current`` is not the encoder of the archive."""
    if archived is None:
        return
    differs = [key for key in IDENTITY_KEYS if archived.get(key) != current.get(key)]
    if not differs:
        cosine = float(np.dot(archived["probe"], current["probe"]))
        if cosine < PROBE_COSINE:
            differs.append(f"probe embedding (cosine {cosine:.4f})")
    if differs:
        raise InvalidInputError(
            f"archive {location} was made with encoder {describe(archived)}, the server embeds with "
            f"{describe(current)} (differs in {', '.join(differs)}): embeddings of two encoders cannot be "
            f"compared; use the archive's precision (--precision {archived.get('precision')}) or build a new archive"
        )
