"""Input validation, tokenisation and request batching (the logic behind code_tokenizer)."""

from __future__ import annotations

import numpy as np
import pytest

from clonedetect import paths
from clonedetect.preprocessing.batching import tokenize_requests
from clonedetect.preprocessing.comments import strip_comments
from clonedetect.preprocessing.declaration_lists import with_single_declarations
from clonedetect.preprocessing.identifiers import (
    CONTINUATION,
    CONTINUATION_PREFIX,
    NAME,
    OTHER,
    RESERVED,
    SEPARATOR,
    piece_kind,
    piece_kinds,
)
from clonedetect.preprocessing.tokenization import PAD_ID, CodeTokenizer, pad_batch
from clonedetect.preprocessing.validation import MAX_CODE_BYTES, CodeInputError, decode_code

TOKENIZER = paths.tokenizer_file()


@pytest.fixture(scope="module")
def tokenizer() -> CodeTokenizer:
    return CodeTokenizer.from_file(TOKENIZER)


def test_decode_code_accepts_text_and_utf8_bytes():
    assert decode_code("int x;") == "int x;"
    assert decode_code("π = 3;".encode()) == "π = 3;"


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty or only whitespace"),
        ("\n \t", "empty or only whitespace"),
        (b"ok \xff", "not valid UTF-8 (byte 0xff at offset 3)"),
        (b"a" * (MAX_CODE_BYTES + 1), f"{MAX_CODE_BYTES + 1} bytes; the limit is {MAX_CODE_BYTES}"),
        ("é" * (MAX_CODE_BYTES // 2 + 1), "the limit is"),
        (["int x;"], "is a list, not source code: pass each program as a str"),
        (None, "is a NoneType, not source code"),
    ],
)
def test_decode_code_rejects_with_a_reason(raw, message):
    with pytest.raises(CodeInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_code(raw)


def test_tokenizer_ignores_layout_and_never_truncates(tokenizer):
    compact = "int main(){int a=1;return a;}"
    spread = "int main ( )\n{\n    int a = 1;\n\n    return a;\n}\n"
    assert np.array_equal(tokenizer.token_ids([compact])[0], tokenizer.token_ids([spread])[0])
    long_code = "x = x + 1;\n" * 3000
    (ids,) = tokenizer.token_ids([long_code])
    assert len(ids) > 10_000


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("int a; // count\nint b;", "int a; \nint b;"),
        ("a/* x\n y */b", "a b"),
        ("x = 1  # note\ny = '#'", "x = 1  \ny = '#'"),
        ("#include <stdio.h>\n#define N 10 // size", "#include <stdio.h>\n#define N 10 "),
        ('s = "http://example.org /* not a comment */";', 's = "http://example.org /* not a comment */";'),
        ("c = '\\'';  // quote", "c = '\\'';  "),
        ('x = """text # kept"""\ny = 2', 'x = """text # kept"""\ny = 2'),
        # docstrings are documentation: the module's, and a function's after a comment
        ('#!/usr/bin/env python\n"""Module."""\nx = 2', "\n\nx = 2"),
        (
            "def f(a):  # note\n    '''Doc: \"q\".'''\n    return {'k':\n        1}",
            "def f(a):  \n    \n    return {'k':\n        1}",
        ),
        ('class A:\n    """Doc."""\n    s = """kept"""', 'class A:\n    \n    s = """kept"""'),
        ("int a; /* unterminated", "int a;  "),
    ],
)
def test_strip_comments(code, expected):
    assert strip_comments(code) == expected


def test_tokenizer_drops_comments(tokenizer):
    plain = "int main() { return 0; }"
    commented = "/* entry point */ int main() { // the answer\n return 0; }"
    assert np.array_equal(tokenizer.token_ids([plain])[0], tokenizer.token_ids([commented])[0])
    bare = "def f(x):\n    return x + 1\n"
    documented = '"""Helpers."""\ndef f(x):\n    """Add one to x."""\n    return x + 1\n'
    assert np.array_equal(tokenizer.token_ids([bare])[0], tokenizer.token_ids([documented])[0])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("int i,j,n=0,a[50];", "int i,j,n=0,a[50]; int i; int j; int n=0; int a[50];"),
        ("#include <stdio.h>\nint a[9], n;", "#include <stdio.h>\nint a[9], n; int a[9]; int n;"),
        (
            "  unsigned long long *p = &x, q;",
            "  unsigned long long *p = &x, q; unsigned long long *p = &x; unsigned long long q;",
        ),
        ('final String s = "a;b,c", t;', 'final String s = "a;b,c", t; final String s = "a;b,c"; final String t;'),
        ("vector<int> v(n, 0), w;", "vector<int> v(n, 0), w; vector<int> v(n, 0); vector<int> w;"),
        ("String[] a, b;", "String[] a, b; String[] a; String[] b;"),
        # whitespace is not a token: the single declarations get single spaces
        ("long\t  long  a [ 3 ],\n\t\tb;", "long\t  long  a [ 3 ],\n\t\tb; long long a [ 3 ]; long long b;"),
        # not declaration lists: left as they are
        ("for (int i = 0, j = 9; i < j; i++) f(a, b), g();", "for (int i = 0, j = 9; i < j; i++) f(a, b), g();"),
        ("return a, b;", "return a, b;"),
        ("x = y, z;", "x = y, z;"),
        ("map<int, int> m, n;", "map<int, int> m, n;"),
        ("int (*f)(int), g;", "int (*f)(int), g;"),
        ("def f(a, b):\n    return a, b\n", "def f(a, b):\n    return a, b\n"),
        ("pass\n    a, b = 1, 2;", "pass\n    a, b = 1, 2;"),
    ],
)
def test_with_single_declarations(code, expected):
    assert with_single_declarations(code) == expected


def test_tokenizer_reads_a_declaration_list_also_as_single_declarations(tokenizer):
    """A copy that split a declaration list (a level-3 disguise) has the same tokens as the
    original's single-declaration reading, which follows the list."""
    merged = "int main() {\n  int i, n = 3, a[9];\n  a[0] = n;\n}"
    split = "int main() {\n  int i;\n  int n = 3;\n  int a[9];\n  a[0] = n;\n}"
    merged_ids, split_ids = (list(ids) for ids in tokenizer.token_ids([merged, split]))
    list_ids = list(tokenizer.token_ids(["int i, n = 3, a[9]"])[0])  # no `;`: not a statement
    start = merged_ids.index(list_ids[0], 1)  # after `int main() {`
    assert merged_ids[start : start + len(list_ids)] == list_ids
    assert merged_ids[:start] + merged_ids[start + len(list_ids) + 1 :] == split_ids


def test_piece_kinds_separate_names_reserved_words_and_continuations(tokenizer):
    assert piece_kind("count") == piece_kind("_tmp2") == NAME
    # often a variable's name in student code, so renameable (`std`: a standard deviation)
    assert piece_kind("max") == piece_kind("len") == piece_kind("std") == NAME
    # keywords of one language that are common names in another (`InputStream in`, a Python
    # parameter `default`), and soft or contextual keywords: names in every language
    for name in ("in", "is", "default", "from", "match", "type", "_", "var", "record"):
        assert piece_kind(name) == NAME, name
    for reserved in ("for", "while", "printf", "System", "self", "nullptr", "def", "lambda", "case", "new"):
        assert piece_kind(reserved) == RESERVED
    assert piece_kind("##Res") == piece_kind("##1") == CONTINUATION
    for symbol in ("(", "=", "42", "#"):
        assert piece_kind(symbol) == OTHER
    for separator in (";", "{", "}"):
        assert piece_kind(separator) == SEPARATOR
    kinds = piece_kinds(tokenizer.vocab, tokenizer.vocab_size)
    assert kinds.shape == (tokenizer.vocab_size,)
    assert kinds[tokenizer.vocab["while"]] == RESERVED
    assert set(np.unique(kinds)) == {OTHER, NAME, RESERVED, CONTINUATION, SEPARATOR}


def test_tokenizer_keeps_each_name_one_word(tokenizer):
    """A name's pieces after the first are marked, whatever its letters, digits and
    underscores; symbols are words of their own."""
    token_text = {index: text for text, index in tokenizer.vocab.items()}
    words: list[str] = []
    for index in tokenizer.token_ids(["flagRes=a1+x_1*maxlen;"])[0]:
        token = token_text[index]
        if token.startswith(CONTINUATION_PREFIX):
            words[-1] += token.removeprefix(CONTINUATION_PREFIX)
        else:
            words.append(token)
    assert words == ["flagRes", "=", "a1", "+", "x_1", "*", "maxlen", ";"]


def test_pad_batch_pads_with_zero_and_masks():
    ids, mask = pad_batch([np.array([5, 6, 7]), np.array([9])], length=4)
    assert ids.tolist() == [[5, 6, 7, PAD_ID], [9, PAD_ID, PAD_ID, PAD_ID]]
    assert mask.tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    assert ids.dtype == mask.dtype == np.int64


def test_tokenize_requests_fails_only_the_bad_request(tokenizer):
    good = np.array([b"int a = 1;", b"int b = 2; int c = 3;"], dtype=object)
    bad = np.array([b"int a;", b"\xff"], dtype=object)
    results = tokenize_requests(tokenizer, [good, bad, good[:1]], multiple=256)
    assert isinstance(results[1], CodeInputError) and "CODE[1] is not valid UTF-8" in str(results[1])
    ids, mask = results[0]
    assert ids.shape == mask.shape == (2, 256)
    assert mask.sum(axis=1).tolist() == [
        len(tokenizer.token_ids(["int a = 1;"])[0]),
        len(tokenizer.token_ids(["int b = 2; int c = 3;"])[0]),
    ]
    assert results[2][0].shape == (1, 256)
