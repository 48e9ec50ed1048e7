"""clonedetect: a code-clone and plagiarism detector served on NVIDIA Triton Inference Server."""

# The release version (pyproject.toml reads it from here); bump it with a CHANGELOG.md entry.
__version__ = "0.8.0"
