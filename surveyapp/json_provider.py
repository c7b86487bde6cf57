"""JSON answers that every parser accepts: never NaN or Infinity, Vietnamese left readable.

Python's json module writes ``NaN`` and ``Infinity``, which are not JSON (RFC 8259 §6); a client
parsing strictly would fail on the whole answer. The analysis layer decides its degenerate cases
(see analysis.compare), so a non-finite number here is a bug: it is logged and sent as null.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider

logger = logging.getLogger(__name__)


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


class StrictJSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:
            logger.warning("a non-finite number in a JSON answer was sent as null")
            return super().dumps(finite(obj), **kwargs)
