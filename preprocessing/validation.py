"""Checks on submitted source code, shared by the Triton tokenizer model and the client."""

from __future__ import annotations

MAX_CODE_BYTES = 1_000_000
"""Largest accepted submission (UTF-8 bytes). Larger files are rejected, never cut."""


class CodeInputError(ValueError):
    """Submitted code cannot be embedded; the message says what was wrong."""


def decode_code(raw: bytes | str, *, what: str = "code") -> str:
    """Return the submission as text, or raise :class:`CodeInputError` saying why not."""
    if not isinstance(raw, (str, bytes)):
        raise CodeInputError(
            f"{what} is a {type(raw).__name__}, not source code: pass each program as a str (or UTF-8 bytes)"
        )
    if isinstance(raw, str):
        size = len(raw.encode("utf-8", errors="surrogatepass"))
        text = raw
    else:
        size = len(raw)
        if size > MAX_CODE_BYTES:
            raise CodeInputError(f"{what} is {size} bytes; the limit is {MAX_CODE_BYTES} bytes (1 MB)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CodeInputError(
                f"{what} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "send source files as UTF-8 text"
            ) from None
    if size > MAX_CODE_BYTES:
        raise CodeInputError(f"{what} is {size} bytes; the limit is {MAX_CODE_BYTES} bytes (1 MB)")
    if not text.strip():
        raise CodeInputError(f"{what} is empty or only whitespace; send the source text of a program")
    return text


def decode_pairs(codes_a, codes_b) -> list[tuple[str, str]]:
    """One request's pairs (``CODE_A[i]``, ``CODE_B[i]``) as text, or raise
    :class:`CodeInputError` naming the first program that is not acceptable."""
    if len(codes_a) != len(codes_b):
        raise CodeInputError(f"CODE_A has {len(codes_a)} programs and CODE_B {len(codes_b)}; send them in pairs")
    return [
        (decode_code(a, what=f"CODE_A[{i}]"), decode_code(b, what=f"CODE_B[{i}]"))
        for i, (a, b) in enumerate(zip(codes_a, codes_b, strict=True))
    ]
