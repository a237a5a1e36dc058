"""The insole's wire protocol: codec, GATT table and emulated firmware.

``PROTOCOL.md`` (next to this file) is the normative specification; the codec
(``_codec``) and the GATT constants (``_gatt``) implement it.

Every public name loads its module on first access (PEP 562): ``insole --help``
and a command that never touches a packet should not pay for numpy, uuid and the
codec's tables, and the emulated firmware pulls in bumble and dbus-fast, which a
collector that only decodes packets should not pay for either. ``_HOMES`` says
where each name is defined; ``tests/test_protocol_surface.py`` checks it against
each module's own ``__all__``.
"""

from firmware_protocol._errors import CrcMismatchError, ProtocolError  # small, and every error path needs them

_HOMES: dict[str, tuple[str, ...]] = {
    "firmware_protocol._codec": (
        "ACCEL_CODES_PER_G", "CODES_PER_KPA", "GYRO_CODES_PER_DPS", "MAX_PACKET_SIZE", "N_IMU_AXES",
        "N_SENSORS", "PRESSURE_KPA_PER_CODE", "PROTOCOL_VERSION", "SAMPLE_RATES_HZ", "SATURATED_CODE",
        "ClockReply", "Command", "Foot", "GetInfo", "Identify", "InfoReply", "ManufacturerData", "Message",
        "Opcode", "ReadClock", "Reply", "ReplyMessage", "SamplePacket", "SetSampleRate", "StartStreaming",
        "Status", "StatusFlags", "StopStreaming", "Tare", "bad_command_reply", "crc16_ccitt_false",
        "decode_command", "decode_manufacturer_data", "decode_notification", "decode_reply",
        "decode_sample_packet", "encode", "encode_advertising_data", "encode_command",
        "encode_manufacturer_data", "encode_reply", "encode_sample_packet", "encode_scan_response",
        "local_name", "max_samples_per_packet", "min_att_mtu", "packet_size", "parse_local_name",
        "serial_number_string",
    ),
    "firmware_protocol._gatt": (
        "ADVERTISING_INTERVAL_MS", "BATTERY_LEVEL_UUID", "BATTERY_SERVICE_UUID", "CCCD_UUID", "COMPANY_ID",
        "CONTROL_CHAR_UUID", "DATA_CHAR_UUID", "DEVICE_INFORMATION_SERVICE_UUID", "FIRMWARE_REVISION_UUID",
        "GATT_TABLE", "INSOLE_SERVICE_UUID", "LOCAL_NAME_PREFIX", "MANUFACTURER_NAME", "MANUFACTURER_NAME_UUID",
        "MODEL_NUMBER", "MODEL_NUMBER_UUID", "PREFERRED_ATT_MTU", "SERIAL_NUMBER_UUID", "CharacteristicSpec",
        "Properties", "ServiceSpec", "uuid16",
    ),
    "firmware_protocol._emulator": (
        "SampleSource", "synthetic_walking_source", "InsoleSpec", "EmulatedInsole", "EmulatedPeripheral",
        "source_from_arrays",
    ),
    "firmware_protocol._environment": (
        "DBUS_SYSTEM_BUS_ADDRESS", "EmulationSetupError", "EmulatedEnvironment", "PrivateBus",
    ),
    "firmware_protocol._faults": ("FAULT_SPEC_HELP", "FaultPlan", "parse_fault_spec"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}

__all__ = ["CrcMismatchError", "ProtocolError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'firmware_protocol' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
