"""How reports quote what they found: a value is shown as written, but never whole when it is
long (a 15 MiB field is a damaged file, not something to print), and lists are capped with their
total count."""

from __future__ import annotations

#: Characters of a value a report keeps.
VALUE_CHARACTERS = 60


def cut(value: object, limit: int = VALUE_CHARACTERS) -> str:
    """The first `limit` characters of a value (what a table of failures keeps of it)."""
    text = value if isinstance(value, str) else str(value)
    return text[:limit]


def quoted(value: object, length: int | None = None, limit: int = VALUE_CHARACTERS) -> str:
    """`repr` of a value, cut after `limit` characters with the length it really has (`length`
    when `value` was already cut)."""
    text = value if isinstance(value, str) else str(value)
    length = max(length or 0, len(text))
    if length <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({length:,} characters)"
