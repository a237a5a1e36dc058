"""A fake ``bluetoothd``: the ``org.bluez`` D-Bus API backed by a bumble central.

Real, unmodified bleak talks to this exactly as it talks to BlueZ on Linux. The
fake claims the name ``org.bluez`` on a (private) D-Bus bus and turns the BlueZ
calls bleak makes into operations of one bumble central ("the adapter") whose
emulated controller sits on an in-process :class:`bumble.link.LocalLink`. The
emulated insoles are bumble peripherals on the same link, so everything from
HCI upwards (L2CAP, ATT, GATT, MTU exchange) is the real bumble stack; only the
radio is missing.

Only the part of the BlueZ API that bleak 3.1 uses is served (see
``/work/shared/research/ble-feasibility.md``, section (c)). Where BlueZ
behaviour matters to a collector it is reproduced:

* one discovery session per D-Bus client: a second ``StartDiscovery`` from the
  same connection fails with ``org.bluez.Error.InProgress``;
* ``Device1.Connect`` exchanges the ATT MTU (517 offered, like BlueZ), discovers
  the GATT table, exports it and only then sets ``ServicesResolved``;
* ``GattCharacteristic1.MTU``, ``StartNotify`` (values as ``PropertiesChanged``
  of ``Value``) and ``AcquireNotify`` (one ``SOCK_SEQPACKET`` datagram per
  notification);
* a link lost on the peripheral side unexports the GATT objects and sets
  ``ServicesResolved`` and ``Connected`` to false, so bleak's
  ``disconnected_callback`` fires;
* notify and discovery sessions end when their D-Bus client goes away.

Not emulated: pairing and bonding, passive scanning
(``AdvertisementMonitor1``), BlueZ's removal of stale devices after discovery
stops, adapter power changes, BR/EDR. Devices without a local name are shown
with an empty ``Name``, where BlueZ would omit the property.

This module must not use ``from __future__ import annotations``: dbus-fast
reads the D-Bus signatures from the annotations of the exported methods.
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bumble import att as bumble_att
from bumble.controller import Controller
from bumble.core import UUID as BumbleUUID
from bumble.core import AdvertisingData, PhysicalTransport
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy, ServiceProxy
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink
from dbus_fast import DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_method, dbus_property

__all__ = ["FakeBlueZ", "BLUEZ_BUS_NAME"]

logger = logging.getLogger(__name__)

BLUEZ_BUS_NAME = "org.bluez"

_ADAPTER_INTERFACE = "org.bluez.Adapter1"
_DEVICE_INTERFACE = "org.bluez.Device1"
_SERVICE_INTERFACE = "org.bluez.GattService1"
_CHARACTERISTIC_INTERFACE = "org.bluez.GattCharacteristic1"
_DESCRIPTOR_INTERFACE = "org.bluez.GattDescriptor1"

_ERROR_FAILED = "org.bluez.Error.Failed"
_ERROR_IN_PROGRESS = "org.bluez.Error.InProgress"
_ERROR_NOT_CONNECTED = "org.bluez.Error.NotConnected"
_ERROR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
_ERROR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
_ERROR_INVALID_ARGUMENTS = "org.bluez.Error.InvalidArguments"
_ERROR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"

# BlueZ offers the largest ATT MTU in its exchange; the peripheral caps it.
_BLUEZ_REQUESTED_MTU = 517
# RSSI reported for every emulated advertisement (the link has no radio).
_EMULATED_RSSI_DBM = -50

# BlueZ keeps the Generic Access and Generic Attribute services to itself.
_SERVICES_HIDDEN_BY_BLUEZ = {0x1800, 0x1801}

# Characteristic property bits (Core spec Vol 3 Part G 3.3.1.1) -> BlueZ flag names.
_CHARACTERISTIC_FLAGS = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)
_PROPERTY_WRITE = 0x08
_PROPERTY_WRITE_WITHOUT_RESPONSE = 0x04
_PROPERTY_NOTIFY = 0x10
_PROPERTY_INDICATE = 0x20


def uuid_to_bluez(uuid: BumbleUUID) -> str:
    """The 128-bit, lower-case, dashed form BlueZ uses for every UUID."""
    digits = uuid.to_bytes(force_128=True)[::-1].hex()
    return f"{digits[0:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def _device_path(adapter_path: str, address: str) -> str:
    return f"{adapter_path}/dev_{address.replace(':', '_')}"


def _att_error(error: Exception) -> DBusError:
    """Map a bumble GATT failure to the error BlueZ would send (bleak parses it)."""
    if isinstance(error, bumble_att.ATT_Error):
        return DBusError(_ERROR_FAILED, f"Operation failed with ATT error: 0x{error.error_code:02x}")
    return DBusError(_ERROR_FAILED, f"Operation failed: {error}")


# ---------------------------------------------------------------------------
# Exported D-Bus objects. Each holds its state in plain attributes; the fake
# calls ``_set`` to change a property, which emits PropertiesChanged. None of
# them has an attribute called ``name``: dbus-fast uses ``self.name`` as the
# interface name.
# ---------------------------------------------------------------------------


class _PropertiesMixin:
    def _set(self, **changes: Any) -> None:
        changed = {key: value for key, value in changes.items() if getattr(self, f"_{key}") != value}
        for key, value in changed.items():
            setattr(self, f"_{key}", value)
        if changed:
            self.emit_properties_changed(changed)  # type: ignore[attr-defined]

    def _set_always(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self, f"_{key}", value)
        self.emit_properties_changed(changes)  # type: ignore[attr-defined]


class _Adapter(_PropertiesMixin, ServiceInterface):
    def __init__(self, fake: "FakeBlueZ", address: str, alias: str) -> None:
        super().__init__(_ADAPTER_INTERFACE)
        self._fake = fake
        self._Address = address
        self._Alias = alias
        self._Discovering = False

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":  # noqa: F821, N802
        return self._Address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":  # noqa: F821, N802
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":  # noqa: F821, N802
        return self._Alias

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":  # noqa: F821, N802
        return self._Alias

    @dbus_property(access=PropertyAccess.READ)
    def Class(self) -> "u":  # noqa: F821, N802
        return 0

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> "b":  # noqa: F821, N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Pairable(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> "b":  # noqa: F821, N802
        return self._Discovering

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":  # noqa: F821, N802
        return []

    @dbus_property(access=PropertyAccess.READ)
    def Modalias(self) -> "s":  # noqa: F821, N802
        return "usb:v1D6Bp0246d0554"

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> "as":  # noqa: F821, N802
        return ["central", "peripheral"]

    # StartDiscovery, StopDiscovery and SetDiscoveryFilter need the caller's
    # identity (one session per D-Bus client), which dbus-fast methods do not
    # receive; FakeBlueZ._on_message serves them.

    @dbus_method()
    async def RemoveDevice(self, device: "o") -> None:  # noqa: F821, N802
        await self._fake._remove_device(device)


class _Device(_PropertiesMixin, ServiceInterface):
    def __init__(self, fake: "FakeBlueZ", path: str, address: str, address_type: str) -> None:
        super().__init__(_DEVICE_INTERFACE)
        self._fake = fake
        self.path = path
        self._Address = address
        self._AddressType = address_type
        self._Name = ""
        self._RSSI = _EMULATED_RSSI_DBM
        self._UUIDs: list[str] = []
        self._ManufacturerData: dict[int, Variant] = {}
        self._ServiceData: dict[str, Variant] = {}
        self._Connected = False
        self._ServicesResolved = False

    @property
    def alias(self) -> str:
        return self._Name or self._Address.replace(":", "-")

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":  # noqa: F821, N802
        return self._Address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":  # noqa: F821, N802
        return self._AddressType

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":  # noqa: F821, N802
        return self._Name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":  # noqa: F821, N802
        return self.alias

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> "o":  # noqa: F821, N802
        return self._fake.adapter_path

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> "n":  # noqa: F821, N802
        return self._RSSI

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":  # noqa: F821, N802
        return self._UUIDs

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> "a{qv}":  # noqa: F821, N802
        return self._ManufacturerData

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> "a{sv}":  # noqa: F821, N802
        return self._ServiceData

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> "b":  # noqa: F821, N802
        return self._Connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> "b":  # noqa: F821, N802
        return self._ServicesResolved

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Trusted(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> "b":  # noqa: F821, N802
        return False

    @dbus_method()
    async def Connect(self) -> None:  # noqa: N802
        await self._fake._connect(self)

    @dbus_method()
    async def Disconnect(self) -> None:  # noqa: N802
        await self._fake._disconnect(self)

    @dbus_method()
    def Pair(self) -> None:  # noqa: N802
        raise DBusError(_ERROR_NOT_SUPPORTED, "Pairing is not emulated")


class _GattService(ServiceInterface):
    def __init__(self, path: str, device_path: str, proxy: ServiceProxy) -> None:
        super().__init__(_SERVICE_INTERFACE)
        self.path = path
        self._device_path = device_path
        self._uuid = uuid_to_bluez(proxy.uuid)
        self._handle = proxy.handle

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":  # noqa: F821, N802
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> "o":  # noqa: F821, N802
        return self._device_path

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":  # noqa: F821, N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> "ao":  # noqa: F821, N802
        return []

    @dbus_property(access=PropertyAccess.READ)
    def Handle(self) -> "q":  # noqa: F821, N802
        return self._handle


@dataclass
class _AcquiredNotify:
    """One ``AcquireNotify`` session: our end of the socket pair."""

    sock: socket.socket
    owner: str


class _GattCharacteristic(_PropertiesMixin, ServiceInterface):
    def __init__(
        self, link: "_DeviceLink", path: str, service_path: str, proxy: CharacteristicProxy
    ) -> None:
        super().__init__(_CHARACTERISTIC_INTERFACE)
        self._link = link
        self.path = path
        self.proxy = proxy
        self._service_path = service_path
        self._uuid = uuid_to_bluez(proxy.uuid)
        self._properties = int(proxy.properties)
        self._Value = b""
        self._Notifying = False
        self._NotifyAcquired = False
        # D-Bus clients (unique names) holding a StartNotify session.
        self.notify_owners: set[str] = set()
        self.acquired: list[_AcquiredNotify] = []
        self.subscribed = False

    @property
    def can_notify(self) -> bool:
        return bool(self._properties & (_PROPERTY_NOTIFY | _PROPERTY_INDICATE))

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":  # noqa: F821, N802
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":  # noqa: F821, N802
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":  # noqa: F821, N802
        return self._Value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":  # noqa: F821, N802
        return self._Notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":  # noqa: F821, N802
        return [flag for bit, flag in _CHARACTERISTIC_FLAGS if self._properties & bit]

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> "q":  # noqa: F821, N802
        return self._link.mtu

    @dbus_property(access=PropertyAccess.READ)
    def Handle(self) -> "q":  # noqa: F821, N802
        return self.proxy.handle - 1

    @dbus_method()
    async def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: F821, N802
        value = await self._link.read(self.proxy, options)
        # BlueZ stores what it read and announces it as a Value change.
        self._set_always(Value=value)
        return value

    @dbus_method()
    async def WriteValue(self, value: "ay", options: "a{sv}") -> None:  # noqa: F821, N802
        write_type = options["type"].value if "type" in options else None
        if write_type is None:
            write_type = "request" if self._properties & _PROPERTY_WRITE else "command"
        if write_type == "command" and not self._properties & _PROPERTY_WRITE_WITHOUT_RESPONSE:
            raise DBusError(_ERROR_NOT_PERMITTED, "Write not permitted")
        if write_type != "command" and not self._properties & _PROPERTY_WRITE:
            raise DBusError(_ERROR_NOT_PERMITTED, "Write not permitted")
        await self._link.write(self.proxy, bytes(value), with_response=write_type != "command")

    # StartNotify, StopNotify and AcquireNotify are served by
    # FakeBlueZ._on_message: they need the caller's identity, and
    # AcquireNotify must close its copy of the file descriptor only once the
    # reply has been written to the bus.

    def on_notification(self, value: bytes) -> None:
        if self.notify_owners:
            self._set_always(Value=value)
        for session in list(self.acquired):
            try:
                session.sock.send(value)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError, OSError):
                # The client closed its end (bleak does so in stop_notify).
                self._link.fake._end_acquired(self, session)


class _NotifyingCharacteristic(_GattCharacteristic):
    """A characteristic that can notify: BlueZ adds ``NotifyAcquired`` to it.

    bleak looks for the presence of this property to decide whether
    ``AcquireNotify`` may be used.
    """

    @dbus_property(access=PropertyAccess.READ)
    def NotifyAcquired(self) -> "b":  # noqa: F821, N802
        return self._NotifyAcquired


class _GattDescriptor(_PropertiesMixin, ServiceInterface):
    def __init__(
        self, link: "_DeviceLink", path: str, characteristic_path: str, proxy: DescriptorProxy
    ) -> None:
        super().__init__(_DESCRIPTOR_INTERFACE)
        self._link = link
        self.path = path
        self.proxy = proxy
        self._characteristic_path = characteristic_path
        self._uuid = uuid_to_bluez(proxy.type)
        self._Value = b""

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":  # noqa: F821, N802
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Characteristic(self) -> "o":  # noqa: F821, N802
        return self._characteristic_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":  # noqa: F821, N802
        return self._Value

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":  # noqa: F821, N802
        return ["read", "write"]

    @dbus_property(access=PropertyAccess.READ)
    def Handle(self) -> "q":  # noqa: F821, N802
        return self.proxy.handle

    @dbus_method()
    async def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: F821, N802
        value = await self._link.read(self.proxy, options)
        self._set(Value=value)
        return value

    @dbus_method()
    async def WriteValue(self, value: "ay", options: "a{sv}") -> None:  # noqa: F821, N802
        if self.proxy.type == GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR:
            # BlueZ manages the CCCD itself (use StartNotify).
            raise DBusError(_ERROR_NOT_PERMITTED, "Write not permitted")
        await self._link.write(self.proxy, bytes(value), with_response=True)


# ---------------------------------------------------------------------------
# The link state of one connected device.
# ---------------------------------------------------------------------------


@dataclass
class _DeviceLink:
    """A live bumble connection to one device, with its exported GATT objects."""

    fake: "FakeBlueZ"
    device: _Device
    connection: Connection
    peer: Peer
    mtu: int = 23
    services: list[_GattService] = field(default_factory=list)
    characteristics: list[_GattCharacteristic] = field(default_factory=list)
    descriptors: list[_GattDescriptor] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self, proxy: CharacteristicProxy | DescriptorProxy, options: dict) -> bytes:
        offset = options["offset"].value if "offset" in options else 0
        try:
            value = await self.peer.read_value(proxy)
        except Exception as error:  # noqa: BLE001 - every GATT failure becomes a D-Bus error
            raise _att_error(error) from error
        return bytes(value)[offset:]

    async def write(
        self, proxy: CharacteristicProxy | DescriptorProxy, value: bytes, *, with_response: bool
    ) -> None:
        try:
            await self.peer.write_value(proxy, value, with_response=with_response)
        except Exception as error:  # noqa: BLE001 - every GATT failure becomes a D-Bus error
            raise _att_error(error) from error

    def find_characteristic(self, path: str) -> _GattCharacteristic | None:
        return next((c for c in self.characteristics if c.path == path), None)


# ---------------------------------------------------------------------------
# The fake bluetoothd.
# ---------------------------------------------------------------------------


class FakeBlueZ:
    """``org.bluez`` on a D-Bus bus, backed by a bumble central on ``link``.

    Args:
        link: The in-process link the emulated peripherals are attached to.
        adapter_address: Public address of the emulated adapter.
        adapter_name: The adapter's object name, giving the path ``/org/bluez/<name>``.
        connect_timeout_s: How long ``Device1.Connect`` waits for the peripheral
            to answer (it must be advertising), in seconds.

    Use it as an async context manager, or call :meth:`start` and :meth:`stop`::

        async with FakeBlueZ(link).serving(bus_address):
            ...  # bleak, with DBUS_SYSTEM_BUS_ADDRESS=bus_address, sees hci0
    """

    def __init__(
        self,
        link: LocalLink,
        *,
        adapter_address: str = "00:1A:7D:DA:71:13",
        adapter_name: str = "hci0",
        connect_timeout_s: float = 10.0,
    ) -> None:
        self._link = link
        self._adapter_address = adapter_address
        self.adapter_path = f"/org/bluez/{adapter_name}"
        self._adapter_name = adapter_name
        self._connect_timeout_s = connect_timeout_s
        self._bus: MessageBus | None = None
        self._bus_address = ""
        self._central: Device | None = None
        self._adapter: _Adapter | None = None
        self._devices: dict[str, _Device] = {}  # by object path
        self._links: dict[str, _DeviceLink] = {}  # by device object path
        self._connecting: set[str] = set()
        # One LE Create Connection at a time, as on a real controller.
        self._connect_lock = asyncio.Lock()
        self._discovery_owners: set[str] = set()
        self._discovery_filters: dict[str, dict[str, Any]] = {}
        self._scan_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._method_handlers: dict[tuple[str, str], Callable[[Message], Any]] = {
            (_ADAPTER_INTERFACE, "StartDiscovery"): self._handle_start_discovery,
            (_ADAPTER_INTERFACE, "StopDiscovery"): self._handle_stop_discovery,
            (_ADAPTER_INTERFACE, "SetDiscoveryFilter"): self._handle_set_discovery_filter,
            (_CHARACTERISTIC_INTERFACE, "StartNotify"): self._handle_start_notify,
            (_CHARACTERISTIC_INTERFACE, "StopNotify"): self._handle_stop_notify,
            (_CHARACTERISTIC_INTERFACE, "AcquireNotify"): self._handle_acquire_notify,
        }

    # -- lifecycle ---------------------------------------------------------

    @property
    def bus_address(self) -> str | None:
        """The D-Bus address served, once started."""
        return self._bus_address if self._bus else None

    async def start(self, bus_address: str) -> None:
        """Power the emulated adapter on and claim ``org.bluez`` on ``bus_address``."""
        controller = Controller(
            f"fake-bluez-{self._adapter_name}", link=self._link, public_address=self._adapter_address
        )
        self._controller = controller
        central = Device(
            name=f"fake-bluez-{self._adapter_name}",
            address=Address(self._adapter_address),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        await central.power_on()
        central.on(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._central = central

        self._bus_address = bus_address
        bus = MessageBus(bus_address=bus_address, negotiate_unix_fd=True)
        await bus.connect()
        self._bus = bus
        bus.add_message_handler(self._on_message)
        await self._watch_client_departures(bus)

        self._adapter = _Adapter(self, self._adapter_address, f"fake-bluez-{self._adapter_name}")
        bus.export(self.adapter_path, self._adapter)
        reply = await bus.request_name(BLUEZ_BUS_NAME, NameFlag.DO_NOT_QUEUE)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            bus.disconnect()
            self._bus = None
            raise RuntimeError(f"{BLUEZ_BUS_NAME} is already owned on {bus_address}")

    async def stop(self) -> None:
        """Drop every link, release ``org.bluez`` and power the adapter off."""
        for device_link in list(self._links.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(device_link.connection.disconnect(), 2.0)
        for task in list(self._tasks):
            task.cancel()
        if self._bus is not None:
            bus, self._bus = self._bus, None
            bus.disconnect()
            with contextlib.suppress(Exception):
                await bus.wait_for_disconnect()
        if self._central is not None:
            central, self._central = self._central, None
            with contextlib.suppress(Exception):
                await central.power_off()
            with contextlib.suppress(KeyError):
                self._link.remove_controller(self._controller)

    async def __aenter__(self) -> "FakeBlueZ":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- message dispatch for caller-aware methods -------------------------

    def _on_message(self, message: Message) -> bool:
        if message.message_type != MessageType.METHOD_CALL:
            return False
        handler = self._method_handlers.get((message.interface, message.member))
        if handler is None:
            return False
        self._spawn(self._serve(message, handler))
        return True

    async def _serve(self, message: Message, handler: Callable[[Message], Awaitable[Message]]) -> None:
        try:
            reply = await handler(message)
        except DBusError as error:
            reply = Message.new_error(message, error.type, error.text)
        except Exception as error:  # noqa: BLE001 - a bug must not kill the fake
            logger.exception("fake BlueZ failed serving %s.%s", message.interface, message.member)
            reply = Message.new_error(message, _ERROR_FAILED, f"{type(error).__name__}: {error}")
        if reply is not _ALREADY_REPLIED and self._bus is not None:
            await self._bus.send(reply)

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _watch_client_departures(self, bus: MessageBus) -> None:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[
                    "type='signal',sender='org.freedesktop.DBus',"
                    "interface='org.freedesktop.DBus',member='NameOwnerChanged'"
                ],
            )
        )
        assert reply is not None and reply.message_type == MessageType.METHOD_RETURN
        bus.add_message_handler(self._on_name_owner_changed)

    def _on_name_owner_changed(self, message: Message) -> bool:
        if message.message_type != MessageType.SIGNAL or message.member != "NameOwnerChanged":
            return False
        name, old_owner, new_owner = message.body
        if name.startswith(":") and old_owner and not new_owner:
            self._forget_client(name)
        return False

    def _forget_client(self, client: str) -> None:
        """BlueZ ends the sessions of a D-Bus client that goes away."""
        if client in self._discovery_owners:
            self._discovery_owners.discard(client)
            self._discovery_filters.pop(client, None)
            self._spawn(self._update_scanning())
        for device_link in self._links.values():
            for characteristic in device_link.characteristics:
                if client in characteristic.notify_owners:
                    characteristic.notify_owners.discard(client)
                    self._spawn(self._update_subscription(characteristic))
                for session in [s for s in characteristic.acquired if s.owner == client]:
                    self._end_acquired(characteristic, session)

    # -- discovery ---------------------------------------------------------

    async def _handle_set_discovery_filter(self, message: Message) -> Message:
        (filters,) = message.body
        self._discovery_filters[message.sender] = {key: value.value for key, value in filters.items()}
        return Message.new_method_return(message)

    async def _handle_start_discovery(self, message: Message) -> Message:
        if message.sender in self._discovery_owners:
            raise DBusError(_ERROR_IN_PROGRESS, "Operation already in progress")
        self._discovery_owners.add(message.sender)
        await self._update_scanning()
        return Message.new_method_return(message)

    async def _handle_stop_discovery(self, message: Message) -> Message:
        if message.sender not in self._discovery_owners:
            raise DBusError(_ERROR_FAILED, "No discovery started")
        self._discovery_owners.discard(message.sender)
        await self._update_scanning()
        return Message.new_method_return(message)

    async def _update_scanning(self) -> None:
        async with self._scan_lock:
            central = self._central
            if central is None or self._adapter is None:
                return
            wanted = bool(self._discovery_owners)
            if wanted and not central.is_scanning:
                await central.start_scanning(active=True, filter_duplicates=False)
            elif not wanted and central.is_scanning:
                await central.stop_scanning()
            self._adapter._set(Discovering=wanted)

    def _uuid_filter(self) -> set[str] | None:
        """Union of the clients' UUID filters, or None if any client wants everything."""
        wanted: set[str] = set()
        for owner in self._discovery_owners:
            uuids = self._discovery_filters.get(owner, {}).get("UUIDs")
            if not uuids:
                return None
            wanted.update(uuid.lower() for uuid in uuids)
        return wanted

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        if not self._discovery_owners or self._bus is None:
            return
        data: AdvertisingData = advertisement.data
        uuids: list[str] = []
        name = ""
        manufacturer: dict[int, Variant] = {}
        service_data: dict[str, Variant] = {}
        for ad_type, payload in data.ad_structures:
            if ad_type in (
                AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            ):
                uuids += [uuid_to_bluez(BumbleUUID.from_bytes(payload[i : i + 2])) for i in range(0, len(payload), 2)]
            elif ad_type in (
                AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            ):
                uuids += [uuid_to_bluez(BumbleUUID.from_bytes(payload[i : i + 16])) for i in range(0, len(payload), 16)]
            elif ad_type in (AdvertisingData.Type.COMPLETE_LOCAL_NAME, AdvertisingData.Type.SHORTENED_LOCAL_NAME):
                if not name or ad_type == AdvertisingData.Type.COMPLETE_LOCAL_NAME:
                    name = payload.decode("utf-8", errors="replace")
            elif ad_type == AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA and len(payload) >= 2:
                manufacturer[int.from_bytes(payload[:2], "little")] = Variant("ay", bytes(payload[2:]))
            elif ad_type == AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID and len(payload) >= 2:
                service_data[uuid_to_bluez(BumbleUUID.from_bytes(payload[:2]))] = Variant("ay", bytes(payload[2:]))
            elif ad_type == AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID and len(payload) >= 16:
                service_data[uuid_to_bluez(BumbleUUID.from_bytes(payload[:16]))] = Variant("ay", bytes(payload[16:]))
        uuids = list(dict.fromkeys(uuids))

        wanted = self._uuid_filter()
        if wanted is not None and not wanted.intersection(uuids):
            return

        address = advertisement.address.to_string(False)
        path = _device_path(self.adapter_path, address)
        device = self._devices.get(path)
        if device is None:
            device = _Device(
                self, path, address, "random" if advertisement.address.is_random else "public"
            )
            device._Name = name
            device._UUIDs = uuids
            device._ManufacturerData = manufacturer
            device._ServiceData = service_data
            device._RSSI = (
                advertisement.rssi if advertisement.rssi != Advertisement.RSSI_NOT_AVAILABLE else _EMULATED_RSSI_DBM
            )
            self._devices[path] = device
            self._bus.export(path, device)
            return
        changes: dict[str, Any] = {}
        if name and name != device._Name:
            changes["Name"] = name
            changes["Alias"] = name
        if uuids and uuids != device._UUIDs:
            changes["UUIDs"] = uuids
        if manufacturer and _variant_bytes(manufacturer) != _variant_bytes(device._ManufacturerData):
            changes["ManufacturerData"] = manufacturer
        if service_data and _variant_bytes(service_data) != _variant_bytes(device._ServiceData):
            changes["ServiceData"] = service_data
        for key, value in changes.items():
            setattr(device, f"_{key}", value)
        # BlueZ reports every advertisement it receives while discovering as an
        # RSSI update; bleak's scanner relies on it to see known devices again.
        changes["RSSI"] = device._RSSI
        device.emit_properties_changed(changes)

    async def _remove_device(self, path: str) -> None:
        device = self._devices.get(path)
        if device is None:
            raise DBusError(_ERROR_DOES_NOT_EXIST, "Does Not Exist")
        if path in self._links:
            await self._disconnect(device)
        self._devices.pop(path, None)
        if self._bus is not None:
            self._bus.unexport(path)

    # -- connections -------------------------------------------------------

    async def _connect(self, device: _Device) -> None:
        if device.path in self._links:
            return
        if device.path in self._connecting:
            raise DBusError(_ERROR_IN_PROGRESS, "In Progress")
        assert self._central is not None
        self._connecting.add(device.path)
        try:
            async with self._connect_lock:
                try:
                    address_type = (
                        Address.PUBLIC_DEVICE_ADDRESS
                        if device._AddressType == "public"
                        else Address.RANDOM_DEVICE_ADDRESS
                    )
                    connection = await self._central.connect(
                        Address(device._Address, address_type),
                        transport=PhysicalTransport.LE,
                        timeout=self._connect_timeout_s,
                    )
                except Exception as error:  # noqa: BLE001 - any failure is a failed Connect
                    raise DBusError(_ERROR_FAILED, f"le-connection-failed: {error}") from error
            device_link = _DeviceLink(self, device, connection, Peer(connection))
            self._links[device.path] = device_link
            connection.on(
                connection.EVENT_DISCONNECTION, lambda reason: self._on_link_lost(device_link, reason)
            )
            device._set(Connected=True)
            try:
                device_link.mtu = await device_link.peer.request_mtu(_BLUEZ_REQUESTED_MTU)
                await device_link.peer.discover_all()
            except Exception as error:  # noqa: BLE001 - discovery cut short by the link
                if not device_link.closed.is_set():
                    with contextlib.suppress(Exception):
                        await connection.disconnect()
                raise DBusError(_ERROR_FAILED, f"Service discovery failed: {error}") from error
            if device_link.closed.is_set():
                raise DBusError(_ERROR_FAILED, "Device disconnected during service discovery")
            self._export_gatt(device_link)
            device._set(ServicesResolved=True)
        finally:
            self._connecting.discard(device.path)

    def _export_gatt(self, device_link: _DeviceLink) -> None:
        assert self._bus is not None
        device_path = device_link.device.path
        for service_proxy in device_link.peer.services:
            if service_proxy.uuid in [BumbleUUID.from_16_bits(u) for u in _SERVICES_HIDDEN_BY_BLUEZ]:
                continue
            service_path = f"{device_path}/service{service_proxy.handle:04x}"
            service = _GattService(service_path, device_path, service_proxy)
            device_link.services.append(service)
            self._bus.export(service_path, service)
            for characteristic_proxy in service_proxy.characteristics:
                # BlueZ names a characteristic by its declaration handle, which
                # directly precedes the value handle bumble reports.
                characteristic_path = f"{service_path}/char{characteristic_proxy.handle - 1:04x}"
                characteristic_class = (
                    _NotifyingCharacteristic
                    if characteristic_proxy.properties & (_PROPERTY_NOTIFY | _PROPERTY_INDICATE)
                    else _GattCharacteristic
                )
                characteristic = characteristic_class(
                    device_link, characteristic_path, service_path, characteristic_proxy
                )
                device_link.characteristics.append(characteristic)
                self._bus.export(characteristic_path, characteristic)
                for descriptor_proxy in characteristic_proxy.descriptors:
                    descriptor_path = f"{characteristic_path}/desc{descriptor_proxy.handle:04x}"
                    descriptor = _GattDescriptor(
                        device_link, descriptor_path, characteristic_path, descriptor_proxy
                    )
                    device_link.descriptors.append(descriptor)
                    self._bus.export(descriptor_path, descriptor)

    async def _disconnect(self, device: _Device) -> None:
        device_link = self._links.get(device.path)
        if device_link is None:
            return
        if not device_link.closed.is_set():
            with contextlib.suppress(Exception):
                await device_link.connection.disconnect()
        await device_link.closed.wait()

    def _on_link_lost(self, device_link: _DeviceLink, reason: int) -> None:
        """The link is gone (either side ended it): tear down as BlueZ does."""
        if device_link.closed.is_set():
            return
        logger.debug("link to %s lost (reason 0x%02x)", device_link.device._Address, reason)
        self._links.pop(device_link.device.path, None)
        for characteristic in device_link.characteristics:
            for session in list(characteristic.acquired):
                self._end_acquired(characteristic, session, unsubscribe=False)
            characteristic.notify_owners.clear()
        if self._bus is not None:
            for descriptor in device_link.descriptors:
                self._bus.unexport(descriptor.path)
            for characteristic in device_link.characteristics:
                self._bus.unexport(characteristic.path)
            for service in device_link.services:
                self._bus.unexport(service.path)
            device_link.device._set(ServicesResolved=False)
            device_link.device._set(Connected=False)
        device_link.closed.set()

    # -- notifications -----------------------------------------------------

    def _characteristic_for(self, message: Message) -> _GattCharacteristic:
        for device_link in self._links.values():
            characteristic = device_link.find_characteristic(message.path)
            if characteristic is not None:
                return characteristic
        raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"Unknown object {message.path}")

    async def _handle_start_notify(self, message: Message) -> Message:
        characteristic = self._characteristic_for(message)
        if not characteristic.can_notify:
            raise DBusError(_ERROR_NOT_SUPPORTED, "Operation is not supported")
        characteristic.notify_owners.add(message.sender)
        await self._update_subscription(characteristic)
        return Message.new_method_return(message)

    async def _handle_stop_notify(self, message: Message) -> Message:
        characteristic = self._characteristic_for(message)
        if message.sender not in characteristic.notify_owners:
            raise DBusError(_ERROR_FAILED, "No notify session started")
        characteristic.notify_owners.discard(message.sender)
        await self._update_subscription(characteristic)
        return Message.new_method_return(message)

    async def _handle_acquire_notify(self, message: Message) -> Message:
        characteristic = self._characteristic_for(message)
        if not characteristic.can_notify:
            raise DBusError(_ERROR_NOT_SUPPORTED, "Operation is not supported")
        if characteristic.notify_owners or characteristic.acquired:
            raise DBusError(_ERROR_IN_PROGRESS, "Notify already acquired")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        session = _AcquiredNotify(ours, message.sender)
        characteristic.acquired.append(session)
        # A hang-up (the client closed its end) ends the session even when
        # nothing is being notified.
        asyncio.get_running_loop().add_reader(
            ours.fileno(), self._on_acquired_readable, characteristic, session
        )
        try:
            await self._update_subscription(characteristic)
        except BaseException:
            theirs.close()
            self._end_acquired(characteristic, session)
            raise
        characteristic._set(NotifyAcquired=True)
        fd = theirs.detach()
        reply = Message.new_method_return(message, "hq", [0, characteristic._link.mtu], [fd])
        assert self._bus is not None
        # Our copy of the client's descriptor may only be closed once dbus-fast
        # has passed it on, i.e. once the reply is written.
        await self._bus.send(reply)
        os.close(fd)
        return _ALREADY_REPLIED

    def _on_acquired_readable(self, characteristic: _GattCharacteristic, session: _AcquiredNotify) -> None:
        try:
            data = session.sock.recv(1)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._end_acquired(characteristic, session)

    def _end_acquired(
        self, characteristic: _GattCharacteristic, session: _AcquiredNotify, *, unsubscribe: bool = True
    ) -> None:
        if session not in characteristic.acquired:
            return
        characteristic.acquired.remove(session)
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(session.sock.fileno())
        session.sock.close()
        if not characteristic.acquired:
            with contextlib.suppress(Exception):
                characteristic._set(NotifyAcquired=False)
        if unsubscribe:
            self._spawn(self._update_subscription(characteristic))

    async def _update_subscription(self, characteristic: _GattCharacteristic) -> None:
        """Keep the CCCD subscription on the peripheral in step with the sessions."""
        wanted = bool(characteristic.notify_owners or characteristic.acquired)
        device_link = characteristic._link
        if device_link.closed.is_set():
            return
        if wanted and not characteristic.subscribed:
            characteristic.subscribed = True
            try:
                await device_link.peer.subscribe(characteristic.proxy, characteristic.on_notification)
            except Exception as error:  # noqa: BLE001 - every GATT failure becomes a D-Bus error
                characteristic.subscribed = False
                raise _att_error(error) from error
        elif not wanted and characteristic.subscribed:
            characteristic.subscribed = False
            with contextlib.suppress(Exception):
                await device_link.peer.unsubscribe(characteristic.proxy, characteristic.on_notification)
        with contextlib.suppress(Exception):
            characteristic._set(Notifying=bool(characteristic.notify_owners))


# Returned by a handler that already sent its own reply.
_ALREADY_REPLIED: Any = None


def _variant_bytes(values: dict[Any, Variant]) -> dict[Any, bytes]:
    return {key: bytes(variant.value) for key, variant in values.items()}
