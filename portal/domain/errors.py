"""Errors a user can be shown: each carries a catalogue key and its parameters, never prose."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """A sentence for the user, named by its catalogue key and filled with params."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """A refusal the user should read; `message` is translated by the UI."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key, params)
        self.message = Message(key, params)


class TransitionNotAllowed(DomainError):
    """The action is not allowed in the case's state, or not to this user."""


class PermissionDenied(DomainError):
    """The user lacks the role (or is disabled) for this use case."""


class NotFound(DomainError):
    pass


class ConcurrentChange(DomainError):
    """Someone else saved the same case first; nothing of theirs was overwritten."""


class CalendarMissing(DomainError):
    """A working-day deadline needs a year whose official calendar is not loaded."""

    def __init__(self, year: int) -> None:
        super().__init__("calendar.missing_year", year=year)
        self.year = year


class ValidationFailed(DomainError):
    """Form input was refused; `errors` maps each field to the message shown beside it."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("form.has_errors", count=len(errors))
        self.errors = errors


def first_line(error: BaseException) -> str:
    """An unexpected error (a driver's, the operating system's) said in one line for an operator."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
