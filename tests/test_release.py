"""One version per release: the package, its metadata, the CLI and the CHANGELOG agree,
and the chart's version is the one its README and the CHANGELOG entry name."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import yaml

from clonedetect import __version__
from clonedetect.paths import PROJECT_ROOT

CHART_DIR = PROJECT_ROOT / "helm" / "clonedetect"


def latest_changelog_entry() -> tuple[str, str]:
    """(version, text) of the newest ``## X.Y.Z — date`` entry of CHANGELOG.md."""
    text = (PROJECT_ROOT / "CHANGELOG.md").read_text()
    entries = re.split(r"^## ", text, flags=re.M)[1:]
    assert entries, "CHANGELOG.md has no '## X.Y.Z — date' entry"
    heading, _, body = entries[0].partition("\n")
    match = re.match(r"(\d+\.\d+\.\d+) — \d{4}-\d\d-\d\d$", heading.strip())
    assert match, f"the newest CHANGELOG entry's heading is not 'X.Y.Z — YYYY-MM-DD': {heading!r}"
    return match.group(1), body


def chart_version() -> str:
    return yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]


def test_package_metadata_and_cli_report_the_release_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert importlib.metadata.version("clonedetect") == __version__, "reinstall: pip install -e ."
    completed = subprocess.run(
        [sys.executable, "-m", "clonedetect.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip() == f"clonedetect {__version__}"


def test_the_newest_changelog_entry_is_this_release_and_names_the_chart_version():
    version, body = latest_changelog_entry()
    assert version == __version__
    assert f"Chart {chart_version()}" in body, "the release entry says which chart version ships with it"


def test_chart_readme_states_the_chart_version():
    readme = (CHART_DIR / "README.md").read_text()
    assert re.search(rf"Chart version: {re.escape(chart_version())}\b", readme)
