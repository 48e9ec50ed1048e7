"""`clonedetect scan --report`: the HTML page without a browser (self-contained, escaped,
complete), then a real scan on Triton rendered in headless Chromium."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
from html.parser import HTMLParser

import pytest
from test_scan import ASSIGNMENT, BASE, LocalBackend

from clonedetect.cli import main as cli_main
from clonedetect.paths import PROJECT_ROOT
from clonedetect.scanning import scan
from clonedetect.scanning.base_code import BaseCode, base_code_lines, line_ranges
from clonedetect.scanning.inputs import read_base_code
from clonedetect.scanning.report_html import FRAGMENT_COLOURS, fragment_colour, report_data, to_html
from clonedetect.scanning.result import ArchivedSide
from clonedetect.token_sequence import token_sequence

DATA_TAG = '<script type="application/json" id="scan-data">'
CHROMIUM_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def result():
    return scan(LocalBackend(), [str(ASSIGNMENT)], base_code=str(BASE), threshold=0.3, min_similarity=0.3)


def embedded_data(page: str) -> dict:
    start = page.index(DATA_TAG) + len(DATA_TAG)
    return json.loads(page[start : page.index("</script>", start)])


# -- the page, without a browser --------------------------------------------------------------
def test_report_is_self_contained_and_forbids_the_network(result):
    page = to_html(result)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.IGNORECASE)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the Content-Security-Policy: no request can leave the page
    assert "{{" not in page  # every placeholder filled


def test_program_text_and_names_cannot_break_out_of_the_page():
    hostile = 'int main(void) {\n  char *s = "</script><script>alert(1)</script>";\n  /* <!-- */ return 0;\n}\n'
    own = "int twice(int x) {\n  int y = x + x;\n  if (y > 100) { y = y - 100; }\n  return y * 3 + 1;\n}\n"
    name = "ann</script><!--<b>"
    mapping = {name: {"a.c": hostile + own}, "ben": {"b.c": hostile + own.replace("x", "q")}}
    result = scan(LocalBackend(), mapping, threshold=0.0)
    page = to_html(result)
    assert page.count("</script>") == 2 and page.count("<!--") == 0  # only the template's own two scripts
    data = embedded_data(page)
    assert data["files"][f"{name}/a.c"]["text"] == hostile + own  # unescaped again by JSON.parse, unchanged
    assert data["pairs"][0]["a"] == name
    assert "ann&lt;/script&gt;&lt;!--&lt;b&gt;" in page  # the summary tables and the graph escape names


def test_every_verified_pair_is_in_the_data_with_its_files_and_consistent_colours(result):
    data = report_data(result)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [(p.a, p.b) for p in result.candidates]
    assert [p["rank"] for p in data["pairs"] if p["reported"]] == list(range(1, len(result.pairs) + 1))
    page = to_html(result)
    for pair in data["pairs"]:
        assert [f["colour"] for f in pair["fragments"]] == [fragment_colour(k) for k in range(len(pair["fragments"]))]
        for path in (pair["file_a"], pair["file_b"]):
            assert data["files"][path]["text"] == open(path, encoding="utf-8").read()  # the original, not blanked
        if pair["reported"]:
            assert f'data-pair="{pair["rank"]}"' in page  # an edge of the cluster graph opens it
    assert len(set(FRAGMENT_COLOURS)) == len(FRAGMENT_COLOURS)


def test_an_archived_partner_is_shown_from_the_text_the_pair_carries(result):
    archived_text = "int main(void) {\n  return 0;\n}\n"
    side = ArchivedSide("old.c", "cs1", "2023", None, "2024-01-01T00:00:00Z", text=archived_text)
    pair = dataclasses.replace(result.candidates[0], b="archive:2023/old.c", file_b="old.c", archived=side)
    archived = dataclasses.replace(result, candidates=(pair,), pairs=(pair,), clusters=())
    nothing_removed = {"base_code_lines": [], "common_code_lines": []}
    assert report_data(archived)["files"]["old.c"] == {"text": archived_text, **nothing_removed}
    assert "archive:2023/old.c" in to_html(archived)


def test_histogram_counts_every_verified_pair_and_stacks_the_reported_ones(result):
    page = to_html(result)
    counts = {
        kind: sum(map(int, re.findall(rf'class="bar {kind}" data-count="(\d+)"', page)))
        for kind in ("below", "reported")
    }
    assert counts == {"below": len(result.candidates) - len(result.pairs), "reported": len(result.pairs)}


def test_file_reports_carry_base_code_lines_in_json_but_not_the_text(result):
    base = BaseCode.of(read_base_code(str(BASE)).submissions[0].files)
    alice = result.submissions[0].files[0]
    assert alice.base_code_lines == line_ranges(base_code_lines(token_sequence(alice.text), "c", base))
    assert alice.base_code_lines[0] == (4, 16)
    assert alice.to_dict()["base_code_lines"][0] == [4, 16] and "text" not in alice.to_dict()
    assert line_ranges({9, 4, 5, 6}) == ((4, 6), (9, 9)) and line_ranges(set()) == ()


def test_cli_report_that_cannot_be_written_exits_2(tmp_path, capsys):
    for path in (tmp_path / "missing" / "report.html", tmp_path):
        assert cli_main(["scan", str(ASSIGNMENT), "--report", str(path), "--url", "127.0.0.1:1"]) == 2
        assert f"cannot write {path}" in capsys.readouterr().err


# -- in a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "the report's browser test needs headless Chromium: install it with `apt-get install -y chromium` "
            "(Debian/Ubuntu; .ci/run does this on a fresh machine)",
            pytrace=False,
        )
    return found


def run_chromium(chromium: str, profile, *arguments: str) -> str:
    """Headless Chromium in its own process group, killed by PID (the group) if it hangs."""
    command = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", f"--user-data-dir={profile}"]
    process = subprocess.Popen(
        [*command, "--host-resolver-rules=MAP * ~NOTFOUND", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT_S} s: {arguments}")
    assert process.returncode == 0, err[-3000:]
    return out


class Elements(HTMLParser):
    """The attributes of every element of the dumped DOM, and the text of each element with an id."""

    def __init__(self, dom: str):
        super().__init__()
        self.elements: list[dict] = []
        self.text_of: dict[str, str] = {}
        self._open_ids: list[str | None] = []
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        self.elements.append({"tag": tag, **attributes})
        if tag not in ("br", "meta", "input", "circle", "line", "rect"):
            self._open_ids.append(attributes.get("id"))

    def handle_endtag(self, tag):
        if self._open_ids and tag not in ("br", "meta", "input", "circle", "line", "rect"):
            self._open_ids.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open_ids):
            self.text_of[element_id] = self.text_of.get(element_id, "") + data

    def with_class(self, name: str) -> list[dict]:
        return [e for e in self.elements if name in e.get("class", "").split()]


def line_numbers(dom: Elements, class_name: str, side: str) -> set[int]:
    """The numbers of the code lines of ``side`` (a or b) that carry ``class_name``."""
    prefix = f"{side}-L"
    found = dom.with_class(class_name)
    return {int(e["id"][len(prefix) :]) for e in found if e.get("id", "").startswith(prefix)}


def fragment_colours_by_side(dom: Elements) -> dict[str, dict[int, set[str]]]:
    sides: dict[str, dict[int, set[str]]] = {"a": {}, "b": {}}
    for line in dom.with_class("fragment"):
        colour = re.search(r"--colour:\s*([^;]+)", line["style"]).group(1).strip()
        sides[line["id"][0]].setdefault(int(line["data-fragment"]), set()).add(colour)
    return sides


@pytest.mark.integration
def test_report_of_a_real_scan_renders_in_headless_chromium(chromium, triton, tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)  # relative names, as a teacher would type them
    report = tmp_path / "report.html"
    arguments = ["tests/samples/assignment", "--base-code", "tests/samples/assignment_base", "--url", triton.http_url]
    assert cli_main(["scan", *arguments, "--report", str(report)]) == 0
    data = embedded_data(report.read_text(encoding="utf-8"))
    url = report.as_uri()

    overview = Elements(run_chromium(chromium, tmp_path / "profile", "--dump-dom", url))
    rows = overview.with_class("pair-row")
    assert [int(row["data-rank"]) for row in rows] == [p["rank"] for p in data["pairs"]]
    shown = [row for row in rows if "hidden" not in row]
    assert [int(row["data-rank"]) for row in shown] == [1] and "alice.c" in data["pairs"][0]["a"]

    fragments = data["pairs"][0]["fragments"]
    last = len(fragments)  # opened at its last fragment: what "previous/next fragment" do, from the URL
    pair = Elements(run_chromium(chromium, tmp_path / "profile", "--dump-dom", f"{url}#pair=1&fragment={last}"))
    expected = {k: {f["colour"]} for k, f in enumerate(fragments)}
    assert last >= 2 and fragment_colours_by_side(pair) == {"a": expected, "b": expected}
    for side in ("a", "b"):
        first, end = fragments[-1][f"lines_{side}"]
        assert line_numbers(pair, "current", side) == set(range(first, end + 1)), side
    assert set(range(4, 17)) <= line_numbers(pair, "base", "a")  # alice.c's copy of the skeleton, greyed out
    assert pair.text_of["fragment-position"].startswith(f"fragment {last} of {last}")
    assert "alice.c" in pair.text_of["title-a"] and "carol.c" in pair.text_of["title-b"]
    shared = [literal["text"] for literal in data["pairs"][0]["shared_literals"]]
    assert shared and pair.text_of["shared-literals"].startswith("rare literals in both")
    assert all(text in pair.text_of["shared-literals"] for text in shared)

    screenshot = tmp_path / "scan_report.png"
    run_chromium(
        chromium, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1400,1000", url + "#pair=1"
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
