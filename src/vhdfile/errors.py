"""The one family of errors vhdfile raises for bad input.

Every problem with a file's contents, a chain of files or a request is a `VhdError`;
callers (the emulated host, the driver, the CLI) catch that one class and never see an
IndexError or struct.error from a damaged file. Messages name the field, the file offset
where it was found, the value and what was expected, so an operator can tell a truncated
upload from an unsupported feature.
"""

from __future__ import annotations


class VhdError(Exception):
    """Base class: the file or the request cannot be handled as asked."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        field: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = path
        self.field = field
        self.offset = offset
        self.reason = message
        parts = []
        if path is not None:
            parts.append(str(path))
        if field is not None:
            where = field if offset is None else f"{field} at offset {offset:#x}"
            parts.append(where)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class CorruptImageError(VhdError):
    """A structure is damaged: bad signature, checksum, impossible offset, truncation."""


class UnsupportedImageError(VhdError):
    """A well-formed file uses something vhdfile does not implement (named in the message)."""


class ParentError(VhdError):
    """A differencing disk's parent cannot be used."""


class ParentNotFoundError(ParentError):
    """None of the parent locators names an existing file."""


class ParentMismatchError(ParentError):
    """The file found is not the parent the child was made from (identifier differs)."""


class ParentLoopError(ParentError):
    """Following parent locators leads back to a file already in the chain."""


class RequestError(VhdError):
    """The request itself is refused: size out of range, shrink below data, wrong type."""


class OperationFailedError(VhdError):
    """An operation failed part-way; the original file was restored (see the cause)."""
