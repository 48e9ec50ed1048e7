"""Real plagiarism: the SOCO 2014 training set (FIRE 2014, Detection of SOurce COde Re-use).

Real student programs whose reuse was judged by people: ``soco/java/NNN.java`` (259 files,
84 reuse pairs in ``soco/SOCO14-java.qrel``) and ``soco/c/NNN.c`` (79 files, 26 pairs in
``soco/SOCO14-c.qrel``), one ``a b`` file-name pair per qrel line; every pair not listed is
no reuse. The archive ``soco2014-train.tar.gz`` is read from :func:`clonedetect.data.data_dir`
and unpacked into the cache (never into the repository).

It is a *development* check, not training data: per language, every one of the
``N (N - 1) / 2`` unordered pairs is scored, the qrel pairs are the positives, and the
figures are ROC AUC, PR AUC (average precision) and precision at R (R = number of
positives). This module loads the data and computes the metrics; it prints nothing.
:func:`evaluate_real_plagiarism` scores the pairs with the model and the three baselines
(winnowing, Dolos, TF-IDF) for the evaluation harness.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clonedetect import data

SOCO_ARCHIVE = "soco2014-train.tar.gz"
LANGUAGES = ("java", "c")
SUFFIXES = {"java": ".java", "c": ".c"}
QREL_FILES = {"java": "SOCO14-java.qrel", "c": "SOCO14-c.qrel"}
# The report's column order: the served probability (its three signals through the
# calibration), the same after a scan's common-code removal, its signals, then the baselines.
METHODS = ("probability", "scan", "model", "verification", "literals", "winnowing", "dolos", "tfidf")
METRICS = ("roc_auc", "pr_auc", "precision_at_r")
# Quick mode (smoke tests): the files of this many qrel pairs plus this many other files.
QUICK_POSITIVE_PAIRS = 6
QUICK_OTHER_FILES = 14


@dataclass(frozen=True)
class SocoSet:
    """The programs of one SOCO language and its reuse pairs (indices into ``names``, ``i < j``)."""

    language: str
    names: tuple[str, ...]
    codes: tuple[str, ...]
    positives: frozenset[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.names)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, cols, labels)`` of every unordered pair ``rows[k] < cols[k]``, row-major."""
        rows, cols = pair_indices(len(self))
        labels = np.zeros(len(rows), dtype=int)
        if self.positives:
            n = len(self)
            flat = np.array([i * n + j for i, j in self.positives])
            labels[np.isin(rows * n + cols, flat)] = 1
        return rows, cols, labels

    def subset(self, names: Sequence[str]) -> SocoSet:
        """The same set restricted to ``names`` (kept in this set's order), with its positives."""
        wanted = set(names)
        keep = [i for i, name in enumerate(self.names) if name in wanted]
        if len(keep) != len(wanted):
            raise ValueError(f"unknown SOCO {self.language} files: {sorted(wanted - set(self.names))}")
        new_index = {old: new for new, old in enumerate(keep)}
        return SocoSet(
            self.language,
            tuple(self.names[i] for i in keep),
            tuple(self.codes[i] for i in keep),
            frozenset((new_index[i], new_index[j]) for i, j in self.positives if i in new_index and j in new_index),
        )


def pair_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)``, ``i < j``, of all ``n (n - 1) / 2`` unordered pairs, row-major."""
    return np.triu_indices(n, k=1)


def soco_root() -> Path:
    """The unpacked ``soco/`` folder in the cache."""
    return data.unpacked(SOCO_ARCHIVE) / "soco"


def read_qrel(path: Path) -> list[tuple[str, str]]:
    """The ``(a, b)`` file-name pairs of a qrel file, in file order (blank lines skipped)."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected two file names, got {line!r}")
        pairs.append((fields[0], fields[1]))
    return pairs


def load_soco(language: str, root: Path | None = None) -> SocoSet:
    """The SOCO training files and reuse pairs of ``language`` (``java`` or ``c``), files sorted by name."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown SOCO language {language!r}: expected one of {LANGUAGES}")
    root = Path(root) if root is not None else soco_root()
    files = sorted((root / language).glob(f"*{SUFFIXES[language]}"))
    if not files:
        raise FileNotFoundError(f"no {language} files in {root / language}")
    names = tuple(f.name for f in files)
    index = {name: i for i, name in enumerate(names)}
    positives = set()
    for a, b in read_qrel(root / QREL_FILES[language]):
        missing = [name for name in (a, b) if name not in index]
        if missing:
            raise ValueError(f"{QREL_FILES[language]} names files that are not in the set: {missing}")
        if a == b:
            raise ValueError(f"{QREL_FILES[language]} pairs {a} with itself")
        positives.add((min(index[a], index[b]), max(index[a], index[b])))
    codes = tuple(f.read_text(encoding="utf-8", errors="replace") for f in files)
    return SocoSet(language, names, codes, frozenset(positives))


def quick_subset(soco: SocoSet) -> SocoSet:
    """A small deterministic subset for smoke tests: the files of the first qrel pairs and a few others."""
    chosen: list[str] = []
    for i, j in sorted(soco.positives)[:QUICK_POSITIVE_PAIRS]:
        chosen += [soco.names[i], soco.names[j]]
    others = [name for name in soco.names if name not in chosen]
    return soco.subset(list(dict.fromkeys(chosen)) + others[:QUICK_OTHER_FILES])


# --------------------------------------------------------------------------- metrics


def average_precision(labels: Sequence, scores: Sequence) -> float:
    """PR AUC as average precision (scikit-learn's definition); ``nan`` without positives."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(labels, dtype=int)
    if not y.any():
        return float("nan")
    return float(average_precision_score(y, np.asarray(scores, dtype=np.float64)))


def precision_at_r(labels: Sequence, scores: Sequence) -> float:
    """Share of positives among the ``R`` highest-scored pairs, ``R`` = number of positives.

    Pairs tied with the ``R``-th score fill the remaining places in proportion to the
    positives among them (the expected value when ties are broken at random)."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=np.float64)
    r = int(y.sum())
    if r == 0:
        return float("nan")
    cutoff = np.sort(s)[::-1][r - 1]
    above, tied = s > cutoff, s == cutoff
    places = r - int(above.sum())
    hits = float(y[above].sum()) + places * float(y[tied].mean())
    return hits / r


def ranking_metrics(labels: Sequence, scores: Sequence) -> dict:
    """ROC AUC, PR AUC (average precision) and precision at R of one scoring of the pairs."""
    from clonedetect.evaluation.calibration_metrics import roc_auc

    return {
        "roc_auc": roc_auc(labels, scores),
        "pr_auc": average_precision(labels, scores),
        "precision_at_r": precision_at_r(labels, scores),
    }


# --------------------------------------------------------------------------- scorers (all pairs)


def model_similarity_matrix(model, codes: Sequence[str]) -> np.ndarray:
    """Cosine of every two programs: each embedded once (``model.embed``), one matrix product."""
    vectors = np.asarray(model.embed(list(codes)), dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors @ vectors.T


def tfidf_similarity_matrix(codes: Sequence[str]) -> np.ndarray:
    """TF-IDF 1-3-gram cosine of every two programs, the vectoriser fitted on ``codes``."""
    from clonedetect.evaluation.baselines import tfidf_embeddings

    try:
        matrix = tfidf_embeddings(codes)
    except ValueError:  # a tiny set where no n-gram occurs twice
        matrix = tfidf_embeddings(codes, min_df=1)
    return (matrix @ matrix.T).toarray().astype(np.float64)


def winnowing_pair_scores(codes: Sequence[str], language: str, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """copydetect winnowing similarity of the pairs ``(rows[k], cols[k])``, each program fingerprinted once."""
    from clonedetect.evaluation.winnowing import WinnowingScorer

    scorer = WinnowingScorer(language)
    return scorer.pair_similarities((codes[i], codes[j]) for i, j in zip(rows, cols, strict=True))


def signals_of_pairs(served, codes: Sequence[str], rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """The verification stage's scores of the pairs ``(rows[k], cols[k])`` (:meth:`ServedScoring.signals`)."""
    return served.signals([codes[i] for i in rows], [codes[j] for j in cols])


def scan_pair_scores(
    served, model, codes: Sequence[str], language: str, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """The served probability of the pairs as a scan of all ``codes`` (one submission each)
    gets it: the code that many of them hold verbatim removed first (:mod:`clonedetect.scanning.common_code`)."""
    from clonedetect.scanning.base_code import prepare
    from clonedetect.scanning.common_code import DEFAULT_SHARE, remove_common_code
    from clonedetect.scanning.inputs import SourceFile

    files = [[prepare(SourceFile(f"{k}{SUFFIXES[language]}", language, code), None)] for k, code in enumerate(codes)]
    kept = [file.text for (file,) in remove_common_code(files, DEFAULT_SHARE)]
    similarity = model_similarity_matrix(model, kept)[rows, cols]
    return served.probability(similarity, signals_of_pairs(served, kept, rows, cols))


def evaluate_language(soco: SocoSet, model, served, log: Callable[[str], None] = lambda _: None) -> dict:
    """Every pair of ``soco`` scored by the model and the baselines; metrics and timings per
    method, and the served probability's decisions at the calibration's threshold."""
    from clonedetect.evaluation import dolos
    from clonedetect.evaluation.calibration_metrics import threshold_metrics

    rows, cols, labels = soco.pairs()
    codes = list(soco.codes)
    seconds: dict[str, float] = {}
    scores: dict[str, np.ndarray] = {}

    def timed(method: str, fn) -> dict[str, np.ndarray]:
        """``fn()``'s scores, as ``{method: scores}`` or, for a dict, as it is; its seconds under ``method``."""
        start = time.perf_counter()
        found = fn()
        seconds[method] = time.perf_counter() - start
        found = found if isinstance(found, dict) else {method: found}
        return {name: np.asarray(values, dtype=np.float64) for name, values in found.items()}

    scores |= timed("model", lambda: model_similarity_matrix(model, codes)[rows, cols])
    scores |= timed("scan", lambda: scan_pair_scores(served, model, codes, soco.language, rows, cols))
    # Both scores of the verification stage, timed together as "verification".
    scores |= timed("verification", lambda: signals_of_pairs(served, codes, rows, cols))
    scores |= timed("winnowing", lambda: winnowing_pair_scores(codes, soco.language, rows, cols))
    scores |= timed("dolos", lambda: dolos.dolos_pair_similarities(codes, soco.language)[rows, cols])
    scores |= timed("tfidf", lambda: tfidf_similarity_matrix(codes)[rows, cols])
    scores["probability"] = served.probability(scores["model"], scores)
    section = {
        "files": len(soco),
        "pairs": int(len(labels)),
        "positives": int(labels.sum()),
        **{method: ranking_metrics(labels, scores[method]) for method in METHODS},
        "at_threshold": threshold_metrics(labels, scores["probability"], served.calibration.threshold),
        "highest_negative_probability": float(scores["probability"][labels == 0].max(initial=0.0)),
        "seconds": seconds,
    }
    log(
        f"real plagiarism {soco.language}: {len(soco)} files, {section['pairs']} pairs, "
        f"{section['positives']} positives; ROC AUC / PR AUC "
        + ", ".join(f"{m} {section[m]['roc_auc']:.3f}/{section[m]['pr_auc']:.3f}" for m in METHODS)
    )
    return section


def evaluate_real_plagiarism(
    model, served, *, quick: bool = False, log: Callable[[str], None] = lambda _: None
) -> dict:
    """The harness's ``real_plagiarism`` section: ``{"java": {...}, "c": {...}, "meta": {...}}``,
    per SOCO language all pairs scored by every method of :data:`METHODS` (:func:`evaluate_language`).

    ``model`` is the harness's ``ModelScorer`` (anything with ``embed(codes) -> [n, dim]``),
    ``served`` the :class:`clonedetect.evaluation.served_scoring.ServedScoring` of the repository.
    Dolos is installed into the cache first if it is not there yet (a few minutes, once)."""
    from clonedetect.evaluation import dolos

    dolos.ensure_installed(log=log)
    out: dict = {}
    for language in LANGUAGES:
        soco = load_soco(language)
        out[language] = evaluate_language(quick_subset(soco) if quick else soco, model, served, log)
    out["meta"] = {
        "dataset": "SOCO 2014 training set (FIRE 2014), all pairs within a language",
        "quick": quick,
        "methods": list(METHODS),
        "metrics": list(METRICS),
        "dolos_lib": dolos.DOLOS_VERSION,
        "node": dolos.node_version(),
    }
    return out
