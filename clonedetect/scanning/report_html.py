"""``clonedetect scan --report FILE.html``: the scan as one page a teacher can act on.

The page is one self-contained file that opens from disk with no network at all: inline
CSS and script (report_template.html, packaged with this module), the pictures as inline
SVG (:mod:`.report_svg`), and the data the script renders (every verified pair with its
fragments, and the text and the base- and common-code lines of the files those pairs show) as JSON in a
``<script type="application/json">`` tag. The summary and the tables that need no script
are written here, escaped; the pair table and the side-by-side view are the script's.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources

from clonedetect.scanning.common_code import MIN_SUBMISSIONS
from clonedetect.scanning.report_svg import cluster_graph, similarity_histogram
from clonedetect.scanning.result import FileReport, PairReport, ScanResult
from clonedetect.scanning.writers import share_range

FRAGMENT_COLOURS = (
    "#ffd54f",
    "#81d4fa",
    "#a5d6a7",
    "#f48fb1",
    "#ce93d8",
    "#ffab91",
    "#80cbc4",
    "#e6ee9c",
    "#9fa8da",
    "#bcaaa4",
)
"""Fragment k's background on both sides; neighbours differ, so adjacent fragments stay apart."""

REMOVED_LINES = ("base_code_lines", "common_code_lines")
"""The line ranges of each shown file that were blanked before comparing, greyed in the view."""

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def fragment_colour(index: int) -> str:
    return FRAGMENT_COLOURS[index % len(FRAGMENT_COLOURS)]


def embedded_json(data: dict) -> str:
    """``data`` as JSON that cannot end its ``<script>`` tag early: program text holding
    ``</script>`` or ``<!--`` gets its ``<`` (and ``>``, ``&``) as ``\\u`` escapes, which
    ``JSON.parse`` turns back into the same characters."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda match: JSON_ESCAPES[match.group()], text)


def _pair_data(rank: int, pair: PairReport, threshold: float) -> dict:
    fragments = [{**fragment, "colour": fragment_colour(k)} for k, fragment in enumerate(pair.fragments)]
    return {**pair.to_dict(), "rank": rank, "reported": pair.probability >= threshold, "fragments": fragments}


def _shown_files(result: ScanResult) -> dict[str, dict]:
    """The text and removed lines of every file a verified pair shows; an archived
    submission's file (the ``b`` side of an archive pair) comes with the pair, without
    removed lines."""
    submitted: dict[str, FileReport] = {f.path: f for s in result.submissions for f in s.files}
    files = {}
    for pair in result.candidates:
        for path in (pair.file_a, pair.file_b):
            if path in submitted:
                report = submitted[path]
                lines = report.to_dict()
                files[path] = {"text": report.text, **{key: lines[key] for key in REMOVED_LINES}}
        if pair.archived is not None:
            files[pair.file_b] = {"text": pair.archived.text, **{key: [] for key in REMOVED_LINES}}
    return dict(sorted(files.items()))


def report_data(result: ScanResult) -> dict:
    """What the page's script renders: every verified pair, ranked (rank 1 first), and the
    files they show with their original text."""
    pairs = [_pair_data(rank, p, result.settings.threshold) for rank, p in enumerate(result.candidates, start=1)]
    return {"threshold": result.settings.threshold, "pairs": pairs, "files": _shown_files(result)}


def _definition_list(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>" for term, value in items) + "</dl>"


def _base_code_share(result: ScanResult) -> str:
    shares = [s.base_code_share for s in result.submissions]
    if result.settings.base_code is None or not shares:
        return "none given"
    return share_range(shares)


def _common_code_share(result: ScanResult) -> str:
    share = result.settings.common_code_share
    if share >= 1.0:
        return "kept (--common-code 1)"
    shares = [s.common_code_share for s in result.submissions]
    held = f"held by more than {share:.0%} of the submissions and more than {MIN_SUBMISSIONS}"
    return share_range(shares, f"; {held}") if any(shares) else f"none ({held})"


def summary_section(result: ScanResult) -> str:
    summary, settings = result.to_dict()["summary"], result.settings
    return _definition_list(
        [
            ("submissions", f"{summary['submissions']} ({summary['files']} files)"),
            ("pairs verified", str(summary["candidate_pairs"])),
            ("pairs reported", f"{summary['reported_pairs']} (probability >= {settings.threshold})"),
            ("candidates", f"cosine >= {settings.min_similarity}, or among each submission's {settings.top_k} nearest"),
            ("candidates not verified", f"{result.unverified} (the least similar, over --max-verified)"),
            ("base code", settings.base_code or "none"),
            ("base code removed", _base_code_share(result)),
            ("common code removed", _common_code_share(result)),
            ("author map", settings.author_map or "none"),
            ("files skipped", str(summary["skipped"])),
        ]
    )


def submissions_table(result: ScanResult) -> str:
    rows = "".join(
        f"<tr><td>{escape(s.name)}</td><td>{escape(s.author or '')}</td><td class='number'>{len(s.files)}</td>"
        f"<td class='number'>{s.tokens}</td><td class='number'>{s.base_code_share:.0%}</td>"
        f"<td class='number'>{s.common_code_share:.0%}</td></tr>"
        for s in result.submissions
    )
    numbers = "".join(f"<th class='number'>{name}</th>" for name in ("files", "tokens", "base code", "common code"))
    head = f"<tr><th>submission</th><th>author</th>{numbers}</tr>"
    return f"<table class='submissions'><thead>{head}</thead><tbody>{rows}</tbody></table>"


def skipped_list(result: ScanResult) -> str:
    if not result.skipped:
        return "<p class='empty'>No file was skipped.</p>"
    items = "".join(f"<li><code>{escape(s.path)}</code>: {escape(s.reason)}</li>" for s in result.skipped)
    return f"<ul class='skipped'>{items}</ul>"


def to_html(result: ScanResult) -> str:
    """The whole page (see the module doc)."""
    summary = result.to_dict()["summary"]
    sections = {
        "subtitle": escape(
            f"{summary['submissions']} submissions, {summary['candidate_pairs']} pairs verified, "
            f"{summary['reported_pairs']} reported"
        ),
        "summary": summary_section(result),
        "histogram": similarity_histogram(result),
        "graph": cluster_graph(result),
        "submissions": submissions_table(result),
        "skipped": skipped_list(result),
        "data": embedded_json(report_data(result)),
    }
    template = resources.files("clonedetect.scanning").joinpath("report_template.html").read_text(encoding="utf-8")
    return PLACEHOLDER.sub(lambda match: sections[match.group(1)], template)
