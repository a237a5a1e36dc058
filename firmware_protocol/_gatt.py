"""GATT table and advertising constants of the insole, protocol version 1.

Shared by the emulated firmware (bumble peripheral) and the collector (bleak
central), so both sides name the same UUIDs. ``PROTOCOL.md`` section 2-3 is
the normative text; this module is its machine-readable twin.

UUID strings are lower case, the form bleak reports them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

__all__ = [
    "ADVERTISING_INTERVAL_MS",
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "CCCD_UUID",
    "COMPANY_ID",
    "CONTROL_CHAR_UUID",
    "DATA_CHAR_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "FIRMWARE_REVISION_UUID",
    "GATT_TABLE",
    "INSOLE_SERVICE_UUID",
    "LOCAL_NAME_PREFIX",
    "MANUFACTURER_NAME",
    "MANUFACTURER_NAME_UUID",
    "MODEL_NUMBER",
    "MODEL_NUMBER_UUID",
    "PREFERRED_ATT_MTU",
    "SERIAL_NUMBER_UUID",
    "CharacteristicSpec",
    "Properties",
    "ServiceSpec",
    "uuid16",
]


def uuid16(short: int) -> str:
    """Full 128-bit form of a Bluetooth SIG 16-bit UUID (as bleak reports it)."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


# Our own 128-bit UUIDs: one random base (generated once with uuid4, fixed
# forever for protocol version 1); the 16 bits in the first group's low half
# distinguish service and characteristics, as in Nordic's NUS scheme.
INSOLE_SERVICE_UUID = "241c0100-3441-480e-8302-54ca80305a37"
#: Notify: sample packets (``PROTOCOL.md`` section 4).
DATA_CHAR_UUID = "241c0101-3441-480e-8302-54ca80305a37"
#: Write (with response) for commands + notify for replies (section 5).
CONTROL_CHAR_UUID = "241c0102-3441-480e-8302-54ca80305a37"

BATTERY_SERVICE_UUID = uuid16(0x180F)
BATTERY_LEVEL_UUID = uuid16(0x2A19)
DEVICE_INFORMATION_SERVICE_UUID = uuid16(0x180A)
MANUFACTURER_NAME_UUID = uuid16(0x2A29)
MODEL_NUMBER_UUID = uuid16(0x2A24)
SERIAL_NUMBER_UUID = uuid16(0x2A25)
FIRMWARE_REVISION_UUID = uuid16(0x2A26)
#: Client Characteristic Configuration Descriptor (enables notifications).
CCCD_UUID = uuid16(0x2902)

#: Bluetooth SIG company identifier reserved for testing (0xFFFF). A shipping
#: product must use its own assigned company id.
COMPANY_ID = 0xFFFF
#: Complete local name is ``INSOLE-L-1A2B`` / ``INSOLE-R-1A2B``.
LOCAL_NAME_PREFIX = "INSOLE-"
#: Values of the Device Information Service.
MANUFACTURER_NAME = "insole project"
MODEL_NUMBER = "insole16"
#: The firmware requests this ATT MTU right after a connection is made; every
#: protocol-1 packet fits in MTU 247 (244-byte notification value).
PREFERRED_ATT_MTU = 247
#: Advertising interval the firmware uses while not connected.
ADVERTISING_INTERVAL_MS = 100


class Properties(IntFlag):
    """GATT characteristic properties (Bluetooth Core spec, Vol 3 Part G 3.3.1.1)."""

    READ = 0x02
    WRITE_WITHOUT_RESPONSE = 0x04
    WRITE = 0x08
    NOTIFY = 0x10


@dataclass(frozen=True, slots=True)
class CharacteristicSpec:
    """One characteristic of the GATT table."""

    uuid: str
    properties: Properties
    description: str


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One primary service of the GATT table."""

    uuid: str
    name: str
    characteristics: tuple[CharacteristicSpec, ...]


#: The full GATT table of protocol version 1, in handle order.
GATT_TABLE: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        INSOLE_SERVICE_UUID,
        "Insole data service",
        (
            CharacteristicSpec(DATA_CHAR_UUID, Properties.NOTIFY, "sample packets"),
            CharacteristicSpec(
                CONTROL_CHAR_UUID,
                Properties.WRITE | Properties.NOTIFY,
                "commands (write with response) and replies (notify)",
            ),
        ),
    ),
    ServiceSpec(
        BATTERY_SERVICE_UUID,
        "Battery Service",
        (
            CharacteristicSpec(
                BATTERY_LEVEL_UUID, Properties.READ | Properties.NOTIFY, "battery level, uint8 %"
            ),
        ),
    ),
    ServiceSpec(
        DEVICE_INFORMATION_SERVICE_UUID,
        "Device Information Service",
        (
            CharacteristicSpec(MANUFACTURER_NAME_UUID, Properties.READ, "manufacturer name, UTF-8"),
            CharacteristicSpec(MODEL_NUMBER_UUID, Properties.READ, "model number, UTF-8"),
            CharacteristicSpec(
                SERIAL_NUMBER_UUID, Properties.READ, "serial number, UTF-8, 8 upper-case hex digits"
            ),
            CharacteristicSpec(
                FIRMWARE_REVISION_UUID, Properties.READ, "firmware revision, UTF-8 'MAJOR.MINOR.PATCH'"
            ),
        ),
    ),
)
