"""Recognising insoles in advertisements and pairing them to feet (pure, no BLE)."""

from __future__ import annotations

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from firmware_protocol import COMPANY_ID, INSOLE_SERVICE_UUID, Foot, ManufacturerData, encode_manufacturer_data
from insole.capture._collector import CaptureParams, InsoleSelector, identify_advertisement, select_insoles


def advert(address: str, name: str | None, *, service: bool = True, payload: bytes | None = None, rssi: int = -60):
    device = BLEDevice(address, name, details=None)
    adv = AdvertisementData(
        local_name=name,
        manufacturer_data={COMPANY_ID: payload} if payload is not None else {},
        service_data={},
        service_uuids=[INSOLE_SERVICE_UUID.upper()] if service else [],
        tx_power=None,
        rssi=rssi,
        platform_data=(),
    )
    return device, adv


def test_side_serial_battery_come_from_the_manufacturer_data():
    payload = encode_manufacturer_data(ManufacturerData(Foot.RIGHT, 0x20241A2C, 64))
    found = identify_advertisement(*advert("C1:00:00:00:00:01", "INSOLE-R-1A2C", payload=payload))
    assert (found.side, found.serial, found.battery_pct, found.protocol_version, found.rssi) == (
        "right", 0x20241A2C, 64, 1, -60
    )
    assert found.problem is None


def test_manufacturer_data_wins_over_the_name():
    payload = encode_manufacturer_data(ManufacturerData(Foot.LEFT, 7, None))
    found = identify_advertisement(*advert("C1:00:00:00:00:02", "INSOLE-R-0007", payload=payload))
    assert found.side == "left" and found.battery_pct is None


def test_company_id_alone_is_not_an_insole():
    payload = encode_manufacturer_data(ManufacturerData(Foot.LEFT, 7, 50))
    assert identify_advertisement(
        *advert("C1:00:00:00:00:03", "somebody's-watch", service=False, payload=payload)
    ) is None


def test_a_name_alone_is_enough_and_gives_the_side():
    found = identify_advertisement(*advert("C1:00:00:00:00:04", "INSOLE-L-00AA", service=False))
    assert (found.side, found.serial, found.battery_pct) == ("left", None, None)


def test_another_protocol_version_is_listed_with_the_problem_and_never_selected():
    payload = bytes([2]) + encode_manufacturer_data(ManufacturerData(Foot.LEFT, 7, 50))[1:]
    found = identify_advertisement(*advert("C1:00:00:00:00:05", "INSOLE-L-0007", payload=payload))
    assert found.protocol_version == 2 and "protocol version 2" in found.problem
    assert select_insoles({found.address: found}, {"left": InsoleSelector("left")}) == {}


def _found(address: str, name: str, side: str, rssi: int):
    payload = encode_manufacturer_data(
        ManufacturerData(Foot.LEFT if side == "left" else Foot.RIGHT, int(address[-2:], 16), 80)
    )
    return identify_advertisement(*advert(address, name, payload=payload, rssi=rssi))


def test_automatic_pairing_takes_the_strongest_of_each_side():
    seen = [
        _found("C0:00:00:00:00:11", "INSOLE-L-0011", "left", -80),
        _found("C0:00:00:00:00:12", "INSOLE-L-0012", "left", -50),
        _found("C1:00:00:00:00:13", "INSOLE-R-0013", "right", -70),
    ]
    chosen = select_insoles({f.address: f for f in seen},
                            {"left": InsoleSelector("left"), "right": InsoleSelector("right")})
    assert (chosen["left"].name, chosen["right"].name) == ("INSOLE-L-0012", "INSOLE-R-0013")


def test_selectors_by_name_and_by_address():
    seen = [
        _found("C0:00:00:00:00:11", "INSOLE-L-0011", "left", -80),
        _found("C0:00:00:00:00:12", "INSOLE-L-0012", "left", -50),
    ]
    by_address = InsoleSelector.parse("left", "c0-00-00-00-00-11")
    assert by_address.address == "C0:00:00:00:00:11"
    by_name = InsoleSelector.parse("left", "INSOLE-L-0011")
    assert by_name.name == "INSOLE-L-0011"
    for selector in (by_address, by_name):
        assert select_insoles({f.address: f for f in seen}, {"left": selector})["left"].address == "C0:00:00:00:00:11"


def test_capture_params_are_checked_through_the_codec():
    with pytest.raises(Exception, match="samples_per_packet"):
        CaptureParams(samples_per_packet=9)
    with pytest.raises(Exception, match="sample_rate_hz"):
        CaptureParams(sample_rate_hz=120)
