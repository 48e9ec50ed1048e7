"""The one error an import raises for a source it cannot install."""

from __future__ import annotations


class ImportModelError(ValueError):
    """The source model, its tokenizer or the target cannot be imported; the message says
    what is wrong. Raised before anything is written into the model repository."""
