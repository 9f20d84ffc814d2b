"""What a vendor's config-flow probe raises when the entered data does not work."""

from __future__ import annotations


class FieldError(Exception):
    """A probe failed; ``error`` is a translated message for ``field`` (or "base")."""

    def __init__(self, field: str, error: str) -> None:
        """Keep where the message goes and which message it is."""
        super().__init__(error)
        self.field = field
        self.error = error
