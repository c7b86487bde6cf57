"""Domain errors. Messages are Vietnamese msgids (translated by the web layer) with parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the usual gettext marker name
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class ServiceError(Exception):
    """Base error: ``message`` is a msgid, ``params`` fill its %(name)s placeholders."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def render(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


class NotFound(ServiceError):
    status_code = 404


class Gone(ServiceError):
    """The thing existed but is no longer usable (retired QR code, closed campaign)."""

    status_code = 410


class InvalidInput(ServiceError):
    """Input that breaks a rule; ``field`` names the form field or column when known."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class Conflict(InvalidInput):
    """The input is well formed but clashes with what is stored (a dossier already rated)."""

    status_code = 409


class DefinitionError(ServiceError):
    """An instrument definition file does not validate; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "Định nghĩa phiếu khảo sát không hợp lệ:\n%(problems)s",
            problems="\n".join(f"- {p}" for p in problems),
        )
        self.problems = problems
