"""The insole's wire protocol: codec, GATT table and emulated firmware.

``PROTOCOL.md`` (next to this file) is the normative specification; the codec
(``_codec``) and the GATT constants (``_gatt``) implement it.

The public names are each module's ``__all__``, re-exported here, so a name is
listed once: where it is defined.
"""

from firmware_protocol import _codec, _errors, _gatt
from firmware_protocol._codec import *  # noqa: F403
from firmware_protocol._errors import *  # noqa: F403
from firmware_protocol._gatt import *  # noqa: F403

# The emulated firmware and its BLE environment pull in bumble and dbus-fast;
# a collector that only decodes packets should not pay for that, so these load
# on first access.
_LAZY = {
    "SampleSource": "firmware_protocol._emulator",
    "synthetic_walking_source": "firmware_protocol._emulator",
    "DBUS_SYSTEM_BUS_ADDRESS": "firmware_protocol._environment",
    "EmulationSetupError": "firmware_protocol._environment",
    "FAULT_SPEC_HELP": "firmware_protocol._faults",
    "EmulatedEnvironment": "firmware_protocol._environment",
    "PrivateBus": "firmware_protocol._environment",
    "InsoleSpec": "firmware_protocol._emulator",
    "EmulatedInsole": "firmware_protocol._emulator",
    "EmulatedPeripheral": "firmware_protocol._emulator",
    "source_from_arrays": "firmware_protocol._emulator",
    "FaultPlan": "firmware_protocol._faults",
    "parse_fault_spec": "firmware_protocol._faults",
}

__all__ = []
__all__ += _codec.__all__
__all__ += _errors.__all__
__all__ += _gatt.__all__
__all__ += list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'firmware_protocol' has no attribute {name!r}")
