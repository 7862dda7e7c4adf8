"""Domain errors raised by services; the API and pages turn each into a message."""

from __future__ import annotations


class CaseError(Exception):
    """Base of every refusal a service gives; ``str(error)`` is for the user."""


class CaseNotFound(CaseError):
    """The case does not exist, or the user may not know that it exists."""


class ActionForbidden(CaseError):
    """The user may see the case but may not perform this action."""


class TransitionRefused(CaseError):
    """The action is not allowed from the case's current state."""


class StaleVersion(CaseError):
    """The case changed since the user saw it (optimistic concurrency)."""


class UploadTooLarge(CaseError):
    """A file, or the case's documents together, would exceed the policy's size limit."""
