"""Write the evaluation results: JSON, a markdown summary and a PNG of ROC curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

METHOD_LABELS = {
    "probability": "**probability (served)**",
    "scan": "probability in a scan (common code removed)",
    "model": "model (cosine)",
    "verification": "verification (tiling)",
    "literals": "shared rare literals",
    "tfidf": "TF-IDF 1-3-gram cosine",
    "winnowing": "winnowing (copydetect)",
    "dolos": "Dolos",
}
REAL_METRIC_LABELS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC (average precision)", "precision_at_r": "precision at R"}
METHOD_COLOURS = {
    "probability": "tab:red",
    "model": "tab:blue",
    "verification": "tab:purple",
    "literals": "tab:brown",
    "tfidf": "tab:orange",
    "winnowing": "tab:green",
}


def to_jsonable(value):
    """numpy scalars/arrays -> Python, NaN/inf -> ``None`` (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(results: dict, path: Path) -> Path:
    path.write_text(json.dumps(to_jsonable(results), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines


def markdown(results: dict) -> str:
    meta = results["meta"]
    methods = results["plagiarism"]["methods"]
    out = [
        "# Clone / plagiarism detector evaluation",
        "",
        f"Model `{meta['model_onnx']}` (sha256 {meta['model_sha256'][:12]}), tokenizer `{meta['tokenizer_json']}`, "
        f"calibration `{meta['calibration_json']}`, literal rarity `{meta['literal_rarity_json']}`. "
        f"Seed {meta['seed']}, quick={meta['quick']}, "
        f"{meta['threads']} onnxruntime thread(s), runtime {meta['runtime_s']:.0f} s.",
        "",
        *_real_plagiarism(results.get("real_plagiarism")),
        "## Plagiarism ROC AUC by obfuscation level",
        "",
        "Positives: (original, its obfuscated variant at level k, cumulative levels 1..k). "
        "Negatives: (original, another program); per level, the level's positives against all negatives.",
        "",
    ]
    levels = [k for k in results["plagiarism"]["overall"]["auc"]["model"] if k != "overall"] + ["overall"]
    for language, section in results["plagiarism"]["languages"].items():
        out += [
            f"### {language}: {section['dataset']}",
            "",
            f"{section['n_originals']} originals, {section['n_negatives']} negatives. "
            f"Negative = {section['negatives']}.",
            "",
        ]
        rows = [
            [lv]
            + [section["auc"][m].get(lv) for m in methods]
            + [section["n_positives"].get(lv, sum(section["n_positives"].values()))]
            for lv in levels
        ]
        out += _table(["level"] + [METHOD_LABELS[m] for m in methods] + ["positives"], rows)
        failures = section.get("obfuscation_failures") or {}
        identical = {k: v for k, v in section.get("variants_identical_to_original", {}).items() if v}
        if failures or identical:
            out += [
                "",
                f"Obfuscation failures (left out): {failures or 'none'}; "
                f"variants identical to the original: {identical or 'none'}.",
            ]
        out.append("")
    overall = results["plagiarism"]["overall"]
    out += ["### all languages pooled", ""]
    out += _table(
        ["level"] + [METHOD_LABELS[m] for m in methods],
        [[lv] + [overall["auc"][m].get(lv) for m in methods] for lv in levels],
    )
    out.append("")

    mapr = results.get("map_at_r")
    if mapr:
        out += [
            "## POJ-104 valid MAP@R (CodeXGLUE metric, secondary)",
            "",
            f"{mapr['n_programs']} programs of {mapr['n_problems']} problems.",
            "",
        ]
        out += _table(["method", "MAP@R"], [[METHOD_LABELS[m], mapr[m]] for m in ("model", "tfidf") if m in mapr])
        out.append("")

    bcb = results.get("bigclonebench")
    if bcb:
        out += [
            "## BigCloneBench subset: ROC AUC of each clone type vs non-clones (type 5)",
            "",
            f"Scope: {bcb['scope']}. Types MT3 and WT3_T4 (3, 4) are noisy labels: reported, not tuned for.",
            "",
        ]
        types = list(bcb["auc"]["model"])
        out += _table(
            ["type", "pairs"] + [METHOD_LABELS[m] for m in bcb["methods"]],
            [[t, bcb["n_pairs"].get(t)] + [bcb["auc"][m][t] for m in bcb["methods"]] for t in types],
        )
        out += ["", f"Non-clone pairs: {bcb['n_pairs'].get('non_clone')}.", ""]

    cal = results.get("calibration")
    if cal:
        out += [
            "## Calibration of the model's probability (plagiarism pairs)",
            "",
            "Logistic calibration of "
            + ", ".join(f"{name} x {_fmt(w)}" for name, w in zip(cal["features"], cal["weights"], strict=True))
            + f", intercept {_fmt(cal['intercept'])}; "
            f"{cal['n_pairs']} pairs, {_fmt(cal['positive_fraction'])} positive. "
            f"Decision: probability >= {_fmt(cal['threshold'])}.",
            "",
        ]
        rows = [
            [
                "all",
                cal["ece"],
                cal["at_threshold"]["accuracy"],
                cal["at_threshold"]["precision"],
                cal["at_threshold"]["recall"],
                cal["at_threshold"]["f1"],
            ]
        ]
        for language, part in cal["per_language"].items():
            t = part["at_threshold"]
            rows.append([language, part["ece"], t["accuracy"], t["precision"], t["recall"], t["f1"]])
        out += _table(["pairs", f"ECE ({cal['ece_bins']} bins)", "accuracy", "precision", "recall", "F1"], rows)
        out.append("")

    q = results.get("int8")
    if q:
        speed = q["speed"]
        out += [
            "## INT8 (dynamic quantisation) vs FP32, same pairs, same run",
            "",
            f"INT8 model `{q['model_int8']}` ({q['size_bytes']['int8']} bytes vs {q['size_bytes']['fp32']} FP32); "
            f"metadata kept: {q['metadata_kept']}. "
            f"Embedding cosine FP32 vs INT8: min {_fmt(q['embedding_cosine']['min'], 4)}, "
            f"mean {_fmt(q['embedding_cosine']['mean'], 4)}.",
            "",
        ]
        served = q.get("served_as")
        if served:
            out += [
                f"Served as `{served['model']}` version {served['version']} "
                f"({', '.join(f'`{name}`' for name in served['ensembles'])}); the served file is the one "
                f"measured here: {served['identical_to_measured']}.",
                "",
            ]
        rows = [
            [name, q["auc"]["fp32"][name], q["auc"]["int8"][name], q["auc_change"][name]] for name in q["auc"]["fp32"]
        ]
        out += _table(["pairs (ROC AUC)", "FP32", "INT8", "change"], rows)
        out += [
            "",
            f"Largest |AUC change| {_fmt(q['max_abs_auc_change'], 4)} (allowed {q['tolerance']}): "
            f"{'within' if q['within_tolerance'] else 'OUTSIDE'} tolerance.",
            "",
            f"Speed (in-process onnxruntime, batch {speed['batch']} median-length POJ-104 programs, "
            f"{speed['tokens_per_program']} tokens padded to {speed['padded_tokens']}, {speed['threads']} thread(s), "
            f"median of {speed['repeats']}): FP32 {_fmt(speed['fp32_ms'], 1)} ms, INT8 {_fmt(speed['int8_ms'], 1)} ms, "
            f"speed-up x{_fmt(speed['speedup'], 2)}.",
            "",
        ]
    sections = meta.get("section_runtime_s", {})
    if sections:
        out += ["## Runtime by section (s)", ""]
        out += _table(["section", "seconds"], [[k, float(v)] for k, v in sections.items()])
        out.append("")
    return "\n".join(out)


def _real_plagiarism(section: dict | None) -> list[str]:
    """The real-data table (SOCO 2014): rows language x metric, one column per method."""
    if not section:
        return []
    meta = section["meta"]
    methods = meta["methods"]
    languages = [k for k in section if k != "meta"]
    out = [
        "## Real plagiarism (SOCO 2014 training set, development check: all pairs within a language)",
        "",
        "Real student programs, reuse judged by people (FIRE 2014 SOCO qrels); every pair of files of a "
        "language is scored, the qrel pairs are the positives, every other pair a negative. "
        f"Dolos: dolos-lib {meta['dolos_lib']} defaults (Node {meta['node']}). "
        + ("Quick mode: a subset of the files. " if meta.get("quick") else "")
        + "; ".join(
            f"{lang}: {section[lang]['files']} files, {section[lang]['pairs']} pairs, "
            f"{section[lang]['positives']} positives"
            for lang in languages
        )
        + ".",
        "",
    ]
    rows = [
        [
            lang,
            REAL_METRIC_LABELS[metric] + (f" (R = {section[lang]['positives']})" if metric == "precision_at_r" else ""),
        ]
        + [section[lang][m][metric] for m in methods]
        for lang in languages
        for metric in meta["metrics"]
    ]
    out += _table(["language", "metric"] + [METHOD_LABELS[m] for m in methods], rows)
    out += ["", "The served probability's decision (probability >= threshold) on the same pairs:", ""]
    decisions = [
        [
            lang,
            t["precision"],
            t["recall"],
            t["f1_5"],
            t["false_positives"],
            section[lang]["highest_negative_probability"],
        ]
        for lang in languages
        for t in [section[lang]["at_threshold"]]
    ]
    out += _table(["language", "precision", "recall", "F1.5", "false positives", "highest negative"], decisions)
    out.append("")
    return out


def write_markdown(results: dict, path: Path) -> Path:
    path.write_text(markdown(results), encoding="utf-8")
    return path


def plot_roc(curves: dict, path: Path, levels=(1, 2, 3, 4, 5, 6)) -> Path:
    """One row per language, one column per level (plus "all levels"), one curve per method.

    ``curves[language][method] = (labels, levels, scores)`` arrays of the same length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from clonedetect.evaluation.calibration_metrics import roc_auc, roc_points

    languages = list(curves)
    columns = [*levels, None]
    fig, axes = plt.subplots(
        len(languages),
        len(columns),
        figsize=(2.6 * len(columns), 2.6 * len(languages)),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for row, language in enumerate(languages):
        for col, level in enumerate(columns):
            ax = axes[row][col]
            for method, (labels, pair_levels, scores) in curves[language].items():
                labels, pair_levels, scores = map(np.asarray, (labels, pair_levels, scores))
                mask = np.ones(len(labels), bool) if level is None else (labels == 0) | (pair_levels == level)
                fpr, tpr = roc_points(labels[mask], scores[mask])
                if len(fpr):
                    auc = roc_auc(labels[mask], scores[mask])
                    ax.plot(fpr, tpr, color=METHOD_COLOURS.get(method), lw=1.2, label=f"{method} {auc:.3f}")
            ax.plot([0, 1], [0, 1], color="grey", lw=0.5, ls=":")
            ax.set_title(f"{language} {'all levels' if level is None else f'L{level}'}", fontsize=9)
            ax.legend(fontsize=6, loc="lower right")
            ax.tick_params(labelsize=7)
            if row == len(languages) - 1:
                ax.set_xlabel("false positive rate", fontsize=7)
            if col == 0:
                ax.set_ylabel("true positive rate", fontsize=7)
    fig.suptitle("Plagiarism ROC by obfuscation level (legend: method AUC)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
