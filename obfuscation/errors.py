"""The error raised for requests the generator cannot serve."""


class ObfuscationError(ValueError):
    """Unsupported language or level."""
