"""The ``clonedetect scan`` command's arguments and output files (the CLI layer; the
command itself is :func:`clonedetect.cli.command_scan`)."""

from __future__ import annotations

import argparse
import os
import sys

from clonedetect.client.errors import InvalidInputError
from clonedetect.scanning import report_html, writers
from clonedetect.scanning.common_code import MIN_SUBMISSIONS
from clonedetect.scanning.languages import LANGUAGES
from clonedetect.scanning.result import ScanResult, ScanSettings


def _max_verified(value: str) -> int | None:
    """``--max-verified``: a count, 0 for no cap (None in the library and the JSON)."""
    count = int(value)
    if count < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: use 0 (all) or more")
    return count or None


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSIONS", help="directories, one submission per entry")
    parser.add_argument("--base-code", metavar="DIR", help="code handed to every student: never evidence")
    parser.add_argument("--author-map", metavar="FILE", help="CSV 'submission,author': one author's are not compared")
    parser.add_argument(
        "--threshold",
        type=float,
        default=ScanSettings.threshold,
        metavar="P",
        help="report pairs with probability >= P (default 0.5)",
    )
    parser.add_argument("--language", choices=LANGUAGES, help="only files of this language (default: by suffix)")
    parser.add_argument(
        "--top-k", type=int, default=ScanSettings.top_k, help="verify each submission's k most similar (default 3)"
    )
    parser.add_argument(
        "--min-similarity",
        type=float,
        default=ScanSettings.min_similarity,
        metavar="COSINE",
        help="also verify every pair with at least this cosine (default 0.6)",
    )
    parser.add_argument(
        "--max-verified",
        type=_max_verified,
        default=ScanSettings.max_verified,
        metavar="N",
        help=f"verify at most N candidate pairs, the most similar (default {ScanSettings.max_verified}; 0: all)",
    )
    parser.add_argument(
        "--common-code",
        type=float,
        default=ScanSettings.common_code_share,
        metavar="SHARE",
        help=f"remove code that more than this share of the submissions (and more than {MIN_SUBMISSIONS}) "
        f"hold verbatim (default {ScanSettings.common_code_share}; 1: keep it)",
    )
    parser.add_argument(
        "--archive", metavar="PATH_OR_URL", help="also compare with the past submissions of this archive"
    )
    parser.add_argument(
        "--checkpoint",
        metavar="DIR",
        help="keep the server's answers in DIR as they come; run the same scan again with it to resume",
    )
    parser.add_argument("--json", metavar="FILE", help="write the whole result as JSON ('-': stdout, no table)")
    parser.add_argument("--csv", metavar="FILE", help="write every verified candidate pair as CSV")
    parser.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report (pairs side by side)")


def check_output_paths(args: argparse.Namespace) -> None:
    """Fail before the scan, not after it, when an output file cannot be written."""
    for path in (args.json, args.csv, args.report):
        if path and path != "-":
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise InvalidInputError(f"cannot write {path}: directory {folder} does not exist")
            if os.path.isdir(path):
                raise InvalidInputError(f"cannot write {path}: it is a directory")


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise InvalidInputError(f"cannot write {path}: {error.strerror}") from None


def write_outputs(result: ScanResult, args: argparse.Namespace) -> None:
    """``--json``, ``--csv`` and ``--report`` files; the ranked table on stdout unless ``--json`` is given."""
    if args.json:
        _write(args.json, writers.to_json(result))
    if args.csv:
        _write(args.csv, writers.to_csv(result))
    if args.report:
        _write(args.report, report_html.to_html(result))
    if not args.json:
        sys.stdout.write(writers.to_table(result))
