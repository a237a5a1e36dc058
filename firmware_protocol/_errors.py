"""Errors of the wire protocol.

``ProtocolError`` is the only exception the codec raises: any bytes that are
not a valid message give a ``ProtocolError``, never anything else. It is also
re-exported by ``insole`` as part of its single error hierarchy.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """Bytes that are not a valid message of the insole wire protocol."""
