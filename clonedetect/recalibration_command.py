"""``clonedetect calibrate --pairs FILE.csv``: refit the probability on the user's labels and
install it as the scorer's next version (:mod:`clonedetect.recalibration` does the maths).

The CSV has the columns ``file_a,file_b,label`` (paths relative to the CSV's folder, label
0 or 1). Every pair is compared through the running server's ``clone_compare``, so the
signals are those of the encoder and verification stage it serves. The new version is
``clone_scorer/<n+1>/`` in the model repository; ``--reload`` (or ``clonedetect reload
clone_scorer``) makes it live, and ``clonedetect reload clone_scorer --version <n>`` goes back.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from clonedetect import paths
from clonedetect.client.errors import InvalidInputError
from clonedetect.recalibration import NotEnoughLabelsError, refit
from clonedetect.scoring import Calibration

COLUMNS = ("file_a", "file_b", "label")
REPORT_FILE = "recalibration.json"


def read_labelled_pairs(csv_path: Path) -> tuple[list[tuple[bytes, bytes]], np.ndarray]:
    """The programs of each pair and the labels; an :class:`InvalidInputError` names the bad row."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read {csv_path}: {error}") from None
    if not rows or not set(COLUMNS) <= set(rows[0]):
        raise InvalidInputError(f"{csv_path}: expected a header with the columns {','.join(COLUMNS)}")
    pairs, labels = [], []
    for number, row in enumerate(rows, start=2):
        if row["label"].strip() not in ("0", "1"):
            raise InvalidInputError(f"{csv_path}:{number}: label must be 0 or 1, got {row['label']!r}")
        sides = []
        for column in ("file_a", "file_b"):
            path = csv_path.parent / row[column].strip()
            try:
                sides.append(path.read_bytes())
            except OSError as error:
                raise InvalidInputError(f"{csv_path}:{number}: cannot read {path}: {error.strerror}") from None
        pairs.append((sides[0], sides[1]))
        labels.append(int(row["label"]))
    return pairs, np.array(labels)


def install_version(repository: Path, calibration: Calibration, report: dict) -> int:
    """Write ``calibration`` as the scorer's next version (its adapter copied from the latest)."""
    latest = paths.model_versions(paths.SCORER_MODEL, repository)[-1]
    folder = Path(repository) / paths.SCORER_MODEL
    staging = folder / f".{latest + 1}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    shutil.copyfile(folder / str(latest) / "model.py", staging / "model.py")
    calibration.save(staging / paths.CALIBRATION_FILE)
    (staging / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    staging.rename(folder / str(latest + 1))  # a half-written version is never seen by Triton
    return latest + 1


def recalibrate(client, csv_path: Path, repository: Path) -> dict:
    """Compare the pairs, refit, install; the report as printed by the command."""
    pairs, labels = read_labelled_pairs(csv_path)
    comparisons = client.compare_many(pairs)
    signals = np.array([(c.similarity, c.verification, c.literals) for c in comparisons])
    live_version = paths.model_versions(paths.SCORER_MODEL, repository)[-1]
    live = Calibration.load(Path(repository) / paths.SCORER_MODEL / str(live_version) / paths.CALIBRATION_FILE)
    try:
        result = refit(signals, labels, live)
    except NotEnoughLabelsError as error:
        raise InvalidInputError(f"{csv_path}: {error}") from None
    report = {"pairs": len(labels), "positives": int(labels.sum()), "refitted_from_version": live_version}
    report |= result.to_dict()
    report["installed_version"] = install_version(repository, result.calibration, report)
    return report
