"""N-way scanning of an assignment: every submission against every other.

Layers, each a module with one job: :mod:`.inputs` (find and read submissions, list what
is skipped), :mod:`.languages`, :mod:`.authors` (author map), :mod:`.base_code` (blank the
handed-out code), :mod:`.common_code` (blank what many submissions hold verbatim),
:mod:`.similarity` (all-pairs cosine on the client), :mod:`.candidates`, :mod:`.clusters`,
:mod:`.engine` (the scan, no file I/O), :mod:`.result` (the dataclass tree and its JSON),
:mod:`.writers`, :mod:`.report_html` (the HTML report, with :mod:`.report_svg`) and
:mod:`.progress` (output). :func:`scan` is the one call; the JSON schema is in docs/SCAN.md.
"""

from clonedetect.scanning.api import scan
from clonedetect.scanning.engine import run_scan
from clonedetect.scanning.inputs import Skipped, SourceFile, Submission, discover_submissions
from clonedetect.scanning.result import SCHEMA_VERSION, PairReport, ScanResult, ScanSettings, SubmissionReport

__all__ = [
    "SCHEMA_VERSION",
    "PairReport",
    "ScanResult",
    "ScanSettings",
    "Skipped",
    "SourceFile",
    "Submission",
    "SubmissionReport",
    "discover_submissions",
    "run_scan",
    "scan",
]
