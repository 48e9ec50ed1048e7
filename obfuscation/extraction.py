"""Level 4: extract a statement into a new helper function and call it in its place.

Only statements that leave their function solely by falling through are extracted, and
only when every variable they use from the enclosing function is merely read (it becomes
a parameter) or lives entirely inside the statement.
"""

from __future__ import annotations

import random

from . import extraction_c, extraction_java, extraction_python
from .edits import EditGroup
from .naming import NameFactory, fresh_function_name
from .source import Source

STRATEGIES = {
    "c": extraction_c.extractions,
    "cpp": extraction_c.extractions,
    "java": extraction_java.extractions,
    "python": extraction_python.extractions,
}


def extract_helpers(source: Source, rng: random.Random) -> list[EditGroup]:
    """Turn one or two statements into calls of new helper functions."""
    candidates = STRATEGIES[source.language](source)
    if not candidates:
        return []
    factory = NameFactory(source, rng)
    # Prefer whole loops and branches: they make a more convincing helper than one call.
    compound = [c for c in candidates if c.statement.type != "expression_statement"]
    pool = compound if compound and rng.random() < 0.7 else candidates
    chosen = rng.sample(pool, min(len(pool), rng.choice((1, 2))))
    return [candidate.build(fresh_function_name(factory)) for candidate in chosen]
