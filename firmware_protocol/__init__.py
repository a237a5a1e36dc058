"""The insole's wire protocol: codec, GATT table and emulated firmware."""

from firmware_protocol._errors import ProtocolError

__all__ = ["ProtocolError"]
