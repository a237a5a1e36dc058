"""Errors of the wire protocol.

``ProtocolError`` is the only exception the codec raises: any bytes that are
not a valid message give a ``ProtocolError``, never anything else. It is also
re-exported by ``insole`` as part of its single error hierarchy.
"""

from __future__ import annotations

__all__ = ["CrcMismatchError", "ProtocolError"]


class ProtocolError(ValueError):
    """Bytes that are not a valid message of the insole wire protocol."""


class CrcMismatchError(ProtocolError):
    """A frame whose CRC-16 does not match its bytes (corrupted in transit or in the firmware).

    ``received`` is the CRC carried in the frame, ``computed`` the CRC of its bytes.
    """

    def __init__(self, message: str, *, received: int, computed: int) -> None:
        super().__init__(message)
        self.received = received
        self.computed = computed
