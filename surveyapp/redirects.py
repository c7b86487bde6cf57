"""Where a form may send the browser next: only back into this site."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_TARGET = 2000


def local_target(target: str | None, default: str) -> str:
    """``target`` if it is a same-site relative path, else ``default``.

    Refused: absolute and scheme-relative URLs (``https://…``, ``//…``), backslashes (browsers
    read ``/\\evil.example`` as ``//evil.example``), control characters such as CR/LF (they would
    split the Location header) and anything longer than MAX_TARGET.
    """
    if (
        not target
        or len(target) > MAX_TARGET
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
