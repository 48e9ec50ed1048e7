"""The served probability, computed in-process the way ``clone_compare`` computes it.

:class:`ServedScoring` holds the scorer's calibration and the verifier's literal rarity
(both read from the model repository) and turns pairs of programs and their cosines into
the verification stage's two scores and the calibrated probability, so that every figure
of the evaluation labelled "probability" is the served one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clonedetect.literals import LiteralRarity
from clonedetect.scoring import Calibration
from clonedetect.verification import pair_signals


@dataclass(frozen=True)
class ServedScoring:
    calibration: Calibration
    rarity: LiteralRarity

    @classmethod
    def load(cls, calibration_json: Path | str, literal_rarity_json: Path | str) -> ServedScoring:
        return cls(Calibration.load(calibration_json), LiteralRarity.load(literal_rarity_json))

    def signals(self, codes_a: Sequence[str], codes_b: Sequence[str]) -> dict[str, np.ndarray]:
        """``{"verification": ..., "literals": ...}`` of each pair ``(codes_a[k], codes_b[k])``."""
        verification, literals = pair_signals(codes_a, codes_b, self.rarity)
        return {"verification": verification, "literals": literals}

    def probability(self, similarity: np.ndarray, signals: dict[str, np.ndarray]) -> np.ndarray:
        """The served probability of pairs with cosine ``similarity`` and :meth:`signals`."""
        return self.calibration.probability(similarity, signals["verification"], signals["literals"]).astype(np.float64)
