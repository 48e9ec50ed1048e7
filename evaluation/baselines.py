"""Token 1-3-gram TF-IDF cosine baseline.

Tokens come from a simple code-token regex (:data:`CODE_TOKEN`), not from the project's
BPE tokenizer, so the baseline does not depend on the trained tokenizer: identifiers and
keywords, numbers, string/char literals (each one token, kept verbatim: output strings
such as ``"YES"`` are strong task evidence), and operators / punctuation
(multi-character operators kept whole). Comments are dropped. Word
1-3-grams over these tokens, sublinear TF, smooth IDF, L2-normalised rows: the cosine
similarity of two programs is the dot product of their rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from clonedetect.evaluation.map_at_r import map_at_r_from_similarity

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
CODE_TOKEN = re.compile(
    r"""[A-Za-z_]\w*"""  # identifiers / keywords
    r"""|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\w*"""  # numbers
    r"""|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'"""  # string / char literals
    r"""|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!=<>]=|::"""
    r"""|\S"""
)


def code_tokens(code: str) -> list[str]:
    """The baseline's tokens of one program."""
    return CODE_TOKEN.findall(_COMMENT.sub(" ", code))


def tfidf_embeddings(codes: Sequence[str], ngram_range=(1, 3), min_df: int = 2) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows ``[len(codes), features]`` (fitted on ``codes`` themselves)."""
    vectorizer = TfidfVectorizer(
        tokenizer=code_tokens,
        preprocessor=None,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngram_range,
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return vectorizer.fit_transform(codes).tocsr()


def tfidf_similarity_rows(matrix: sparse.csr_matrix):
    """A row-chunk similarity callback for :func:`map_at_r_from_similarity`."""
    transposed = matrix.T.tocsc()

    def rows(indices: np.ndarray) -> np.ndarray:
        return (matrix[indices] @ transposed).toarray()

    return rows


def tfidf_map_at_r(codes: Sequence[str], labels: Sequence) -> float:
    """MAP@R of the TF-IDF cosine baseline on ``codes`` with ``labels``."""
    matrix = tfidf_embeddings(codes)
    return map_at_r_from_similarity(tfidf_similarity_rows(matrix), labels, chunk=512)
