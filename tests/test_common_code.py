"""Common code: what many submissions of a scan hold verbatim is removed like base code."""

from __future__ import annotations

import pytest

from clonedetect.client import InvalidInputError
from clonedetect.scanning import run_scan, scan
from clonedetect.scanning.common_code import MIN_SUBMISSIONS, common_limit, common_lines
from clonedetect.scanning.inputs import submissions_from_mapping
from clonedetect.scanning.report_html import report_data, summary_section
from clonedetect.scanning.result import ScanSettings
from clonedetect.scanning.writers import to_table
from clonedetect.token_sequence import token_sequence
from tests.test_scan import LocalBackend, file_lines

TEMPLATE = (
    "static int read_int(void) {\n"
    "  int c = getchar(), sign = 1, value = 0;\n"
    "  while (c == ' ' || c == '\\n') c = getchar();\n"
    "  if (c == '-') { sign = -1; c = getchar(); }\n"
    "  while (c >= '0' && c <= '9') { value = value * 10 + (c - '0'); c = getchar(); }\n"
    "  return sign * value;\n"
    "}\n"
)
TEMPLATE_LINES = set(range(1, 8))


def own_solution(k: int) -> str:
    """An independent solution: its own names and constants on every line."""
    return (
        f"int main(void) {{\n"
        f"  int count{k} = read_int(), best{k} = {k * 7 + 1};\n"
        f"  for (int step{k} = 0; step{k} < count{k}; step{k} += {k + 1}) {{\n"
        f"    int item{k} = read_int() % {k + 13};\n"
        f"    if (item{k} > best{k}) best{k} = item{k} - {k + 2};\n"
        f"  }}\n"
        f'  printf("%d {k}\\n", best{k});\n'
        f"  return {k % 3};\n"
        f"}}\n"
    )


def sequences(*codes: str, language_family: str = "c") -> list[list]:
    return [[(language_family, token_sequence(code))] for code in codes]


def test_the_limit_is_a_share_of_the_submissions_and_never_below_ten():
    assert common_limit(5, 0.2) == MIN_SUBMISSIONS == 10
    assert common_limit(100, 0.2) == 20
    assert common_limit(370, 0.5) == 185


def test_a_run_held_by_more_than_the_limit_is_common_and_one_held_by_the_limit_is_not():
    held_by_ten = common_lines(sequences(*(TEMPLATE + own_solution(k) for k in range(10))), 0.2)
    assert all(lines == [set()] for lines in held_by_ten)  # a group of ten sharing code stays whole
    held_by_eleven = common_lines(sequences(*(TEMPLATE + own_solution(k) for k in range(11))), 0.2)
    for (lines,) in held_by_eleven:
        # the template's lines, and the two after it that begin like every other student's
        # ("int main(void) {", "  int count7 = ..."): whole lines go, as with base code
        assert lines == TEMPLATE_LINES | {8, 9}
    assert common_lines(sequences(*(TEMPLATE + own_solution(k) for k in range(11))), 1.0)[0] == [set()]


def test_a_submission_counts_once_however_many_of_its_files_hold_the_run_and_families_count_apart():
    one_submission_many_files = [[("c", token_sequence(TEMPLATE))] * 12]
    assert common_lines(one_submission_many_files, 0.2) == [[set()] * 12]
    mixed = sequences(*(TEMPLATE for _ in range(6))) + sequences(*(TEMPLATE for _ in range(6)), language_family="java")
    assert all(lines == [set()] for lines in common_lines(mixed, 0.2))  # 6 and 6, never 12


def _class_of(n: int) -> dict:
    """``n`` students who all kept the same helper; s1 copied s0's own code, renamed."""
    mapping = {f"s{k}": {"main.c": TEMPLATE + own_solution(k)} for k in range(n)}
    copied = own_solution(0).replace("count0", "total").replace("best0", "top").replace("item0", "x")
    mapping["s1"] = {"main.c": TEMPLATE + copied}
    return mapping


def test_a_scan_removes_common_code_from_embeddings_and_evidence_but_keeps_the_copy():
    found = submissions_from_mapping(_class_of(14))
    backend = LocalBackend()
    result = run_scan(found.submissions, backend, settings=ScanSettings(min_similarity=0.0))
    assert not any("read_int(void)" in code for code in backend.embedded)
    assert all(s.common_code_share > 0.3 for s in result.submissions)
    assert result.submissions[0].files[0].common_code_lines == ((1, 9),)
    top = result.candidates[0]
    assert {top.a, top.b} == {"s0", "s1"} and file_lines(top, "a") and not file_lines(top, "a") & TEMPLATE_LINES
    others = [p for p in result.candidates if {p.a, p.b} != {"s0", "s1"}]
    assert all(not file_lines(p, "a") & TEMPLATE_LINES for p in others)
    assert "common code removed: " in to_table(result)
    assert "of the submissions and more than 10)</dd>" in summary_section(result)
    shown = report_data(result)["files"]["s0/main.c"]  # what the view greys
    assert shown["common_code_lines"] == [[1, 9]] and shown["base_code_lines"] == []

    kept = run_scan(found.submissions, LocalBackend(), settings=ScanSettings(min_similarity=0.0, common_code_share=1.0))
    assert all(s.common_code_share == 0 for s in kept.submissions)
    independent = [p for p in kept.candidates if {p.a, p.b} != {"s0", "s1"}]
    assert any(file_lines(p, "a") & TEMPLATE_LINES for p in independent)  # the template as evidence
    assert "common code removed" not in to_table(kept)


def test_a_small_class_keeps_everything():
    result = scan(LocalBackend(), _class_of(8))
    assert all(s.common_code_share == 0 for s in result.submissions)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_an_input_error(share):
    with pytest.raises(InvalidInputError, match=r"common code share .* use a value in \[0, 1\]"):
        scan(LocalBackend(), _class_of(3), common_code_share=share)
