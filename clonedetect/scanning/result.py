"""The result of a scan as a tree of dataclasses; ``ScanResult.to_dict()`` is the JSON
document whose schema docs/SCAN.md describes (``SCHEMA_VERSION`` counts its changes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clonedetect.scanning.clusters import Cluster
from clonedetect.scanning.common_code import DEFAULT_SHARE
from clonedetect.scanning.inputs import Skipped

SCHEMA_VERSION = 6


def _rounded(value: float) -> float:
    return round(float(value), 6)


@dataclass(frozen=True)
class ScanSettings:
    threshold: float = 0.5  # reported pairs: probability at least this
    min_similarity: float = 0.6  # candidates: cosine at least this, or ...
    top_k: int = 3  # ... among a submission's top_k most similar
    language: str | None = None  # only files of this language; None: every supported one
    base_code: str | None = None  # where the base code came from (a directory, or "(in memory)")
    author_map: str | None = None  # likewise for the author map
    archive: str | None = None  # the archive of past submissions also compared with (its location)
    max_verified: int | None = 1000  # candidates among the submissions verified at most (the most similar); None: all
    common_code_share: float = DEFAULT_SHARE  # code held by more than this share of submissions is removed; 1: none

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FileReport:
    path: str
    language: str
    tokens: int
    base_code_tokens: int
    compared: bool  # False: fewer own tokens than the shortest evidence fragment
    base_code_lines: tuple[tuple[int, int], ...] = ()  # [first, last] ranges of blanked lines, 1-based
    common_code_tokens: int = 0
    common_code_lines: tuple[tuple[int, int], ...] = ()  # likewise, lines of common code (see .common_code)
    text: str = field(default="", repr=False, compare=False)  # as handed in, for the HTML report; not in JSON

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "language": self.language,
            "tokens": self.tokens,
            "base_code_tokens": self.base_code_tokens,
            "compared": self.compared,
            "base_code_lines": [list(lines) for lines in self.base_code_lines],
            "common_code_tokens": self.common_code_tokens,
            "common_code_lines": [list(lines) for lines in self.common_code_lines],
        }


@dataclass(frozen=True)
class SubmissionReport:
    name: str
    author: str | None
    files: tuple[FileReport, ...]

    @property
    def tokens(self) -> int:
        return sum(f.tokens for f in self.files)

    @property
    def base_code_share(self) -> float:
        """Share of the submission's tokens that were base code (and removed)."""
        return sum(f.base_code_tokens for f in self.files) / self.tokens if self.tokens else 0.0

    @property
    def common_code_share(self) -> float:
        """Share of the submission's tokens that were common code (and removed)."""
        return sum(f.common_code_tokens for f in self.files) / self.tokens if self.tokens else 0.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "author": self.author,
            "tokens": self.tokens,
            "base_code_share": _rounded(self.base_code_share),
            "common_code_share": _rounded(self.common_code_share),
            "files": [f.to_dict() for f in self.files],
        }


@dataclass(frozen=True)
class ArchivedSide:
    """Where the ``b`` side of a pair with an archived submission came from."""

    submission: str  # its name when it was archived
    course: str | None
    term: str
    author: str | None
    added: str  # when it was archived (ISO 8601, UTC)
    text: str = field(default="", repr=False, compare=False)  # file_b as compared, for the HTML report; not in JSON

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("submission", "course", "term", "author", "added")}


@dataclass(frozen=True)
class PairReport:
    """Two submissions, verified on their most similar file pair (``file_a``, ``file_b``);
    the fragments' line ranges are those files' lines. ``archived``: ``b`` is a past
    submission from the archive (named ``archive:<term>/<name>``), not one of this scan's."""

    a: str
    b: str
    similarity: float
    probability: float
    verification: float
    literals: float  # rarity-weighted overlap of the two files' literals
    file_a: str
    file_b: str
    fragments: tuple[dict, ...]
    shared_literals: tuple[dict, ...]  # the rarest literals both files hold, with their weights
    archived: ArchivedSide | None = None

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "probability": _rounded(self.probability),
            "similarity": _rounded(self.similarity),
            "verification": _rounded(self.verification),
            "literals": _rounded(self.literals),
            "file_a": self.file_a,
            "file_b": self.file_b,
            "fragments": list(self.fragments),
            "shared_literals": list(self.shared_literals),
            "b_archive": None if self.archived is None else self.archived.to_dict(),
        }


@dataclass(frozen=True)
class ScanResult:
    settings: ScanSettings
    submissions: tuple[SubmissionReport, ...]
    skipped: tuple[Skipped, ...]
    candidates: tuple[PairReport, ...]  # every verified pair, ranked
    pairs: tuple[PairReport, ...]  # the reported ones: probability >= threshold, ranked
    clusters: tuple[Cluster, ...]
    unverified: int = 0  # candidates among the submissions left unverified by settings.max_verified

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": self.settings.to_dict(),
            "summary": {
                "submissions": len(self.submissions),
                "files": sum(len(s.files) for s in self.submissions),
                "skipped": len(self.skipped),
                "candidate_pairs": len(self.candidates),
                "reported_pairs": len(self.pairs),
                "unverified_candidates": self.unverified,
            },
            "submissions": [s.to_dict() for s in self.submissions],
            "skipped": [s.to_dict() for s in self.skipped],
            "pairs": [p.to_dict() for p in self.pairs],
            "clusters": [c.to_dict() for c in self.clusters],
        }
