"""Counted nouns in the words a reader sees: "1 step", "2 steps" (never "1 steps")."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: object, singular: str, plural: str | None = None) -> str:
    """``n`` followed by ``singular`` when n is exactly 1, else by ``plural`` (default ``singular + "s"``)."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n} {word}"
