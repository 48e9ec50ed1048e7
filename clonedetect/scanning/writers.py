"""The output layer: a result as JSON, as CSV of the candidate pairs, or as a short
ranked table for the terminal."""

from __future__ import annotations

import csv
import io
import json

from clonedetect.scanning.result import ScanResult

CSV_COLUMNS = ("a", "b", "similarity", "probability", "verification", "file_a", "file_b")
TABLE_ROWS = 20


def to_json(result: ScanResult) -> str:
    return json.dumps(result.to_dict(), indent=2) + "\n"


def to_csv(result: ScanResult) -> str:
    """One row per candidate pair (every pair the server verified), ranked."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(pair.to_dict() for pair in result.candidates)
    return buffer.getvalue()


def _pair_lines(result: ScanResult) -> list[str]:
    if not result.pairs:
        return [f"no pair reached probability {result.settings.threshold}"]
    lines = [f"{'rank':>4}  {'prob':>5}  {'sim':>5}  {'verif':>5}  files"]
    for rank, pair in enumerate(result.pairs[:TABLE_ROWS], start=1):
        lines.append(
            f"{rank:>4}  {pair.probability:5.3f}  {pair.similarity:5.3f}  {pair.verification:5.3f}"
            f"  {pair.file_a}  ~  {pair.file_b}"
        )
    if len(result.pairs) > TABLE_ROWS:
        lines.append(f"      ... {len(result.pairs) - TABLE_ROWS} more (--json or --csv for all)")
    return lines


def _cluster_lines(result: ScanResult) -> list[str]:
    return [
        f"cluster {number}: {len(c.members)} submissions, max probability {c.max_probability:.3f}: "
        + ", ".join(c.members)
        for number, c in enumerate(result.clusters, start=1)
    ]


def share_range(shares: list[float], note: str = "") -> str:
    """``min-max of a submission's tokens (mean m)``: how much of each submission was removed."""
    return f"{min(shares):.0%}-{max(shares):.0%} of a submission's tokens (mean {sum(shares) / len(shares):.0%}{note})"


def _removed_lines(result: ScanResult) -> list[str]:
    base = [s.base_code_share for s in result.submissions]
    common = [s.common_code_share for s in result.submissions]
    lines = []
    if result.settings.base_code is not None and base:
        lines.append(f"base code removed: {share_range(base, '; --json: each')}")
    if any(common):
        lines.append(f"common code removed: {share_range(common, '; --json: each')}")
    return lines


def to_table(result: ScanResult) -> str:
    """The reported pairs, strongest first, then clusters, base- and common-code shares and skipped files."""
    summary = result.to_dict()["summary"]
    lines = [
        f"{summary['submissions']} submissions ({summary['files']} files), {summary['candidate_pairs']} pairs "
        f"verified, {summary['reported_pairs']} reported (probability >= {result.settings.threshold})"
        + (f"; {result.unverified} less similar candidates not verified (--max-verified)" if result.unverified else ""),
        "",
        *_pair_lines(result),
        *_cluster_lines(result),
        *_removed_lines(result),
    ]
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)}:")
        lines += [f"  {s.path}: {s.reason}" for s in result.skipped]
    return "\n".join(lines) + "\n"
