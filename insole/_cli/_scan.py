"""``insole scan``: which insoles are advertising nearby (name, side, address, RSSI, battery).

One BLE scan (bleak; BlueZ on Linux). ``--emulate`` scans emulated insoles on
a private fake BlueZ instead, the same code path with no hardware.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from insole._cli._arguments import add_examples_command, positive_float
from insole._cli._device_options import require_capture_extras, start_emulation
from insole._cli._outputs import printable

__all__ = ["add_parser", "run", "format_table"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "scan",
        help="list the insoles advertising nearby: name, side, address, signal, battery",
        description=(
            "Scan for insoles over Bluetooth LE for a few seconds and list each one: its name, "
            "which foot it is for, its address, signal strength (RSSI), battery, serial and "
            "protocol version. Use a name or address with 'insole record --left/--right'."
        ),
        examples=(
            "insole scan",
            "insole scan --timeout 10 --json",
            "insole scan --emulate",
        ),
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=5.0, metavar="S", help="how long to scan, s (default 5)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON: a list of insoles")
    parser.add_argument(
        "--emulate", action="store_true",
        help="scan emulated insoles (no hardware: a fake BlueZ on a private D-Bus, started for this scan)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_capture_extras(args)
    found = asyncio.run(_scan(args.timeout, args.emulate))
    rows = [_row(insole) for insole in sorted(found, key=lambda f: (f.side or "~", f.name or "", f.address))]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(rows))
    return 0


async def _scan(timeout_s: float, emulate: bool) -> list[Any]:
    from insole.capture import scan_insoles

    environment = await start_emulation() if emulate else None
    try:
        found = await scan_insoles(timeout_s)
    finally:
        if environment is not None:
            await environment.stop()
    return list(found.values())


def _row(insole: Any) -> dict[str, Any]:
    return {
        "name": insole.name,
        "side": insole.side,
        "address": insole.address,
        "rssi_dbm": insole.rssi,
        "battery_pct": insole.battery_pct,
        "serial": f"{insole.serial:08X}" if insole.serial is not None else None,
        "protocol_version": insole.protocol_version,
        "problem": insole.problem,
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table (or a one-line note when there are none)."""
    if not rows:
        return "no insoles found (are they awake, charged and near? is Bluetooth on?)\n"
    header = ("name", "side", "address", "RSSI", "battery", "serial", "protocol")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row["name"] or "?",
                row["side"] or "?",
                row["address"],
                f"{row['rssi_dbm']} dBm" if row["rssi_dbm"] is not None else "?",
                f"{row['battery_pct']}%" if row["battery_pct"] is not None else "?",
                row["serial"] or "?",
                str(row["protocol_version"]) if row["protocol_version"] is not None else "?",
            )
        )
    # a name is whatever a device nearby advertises: escape sequences in it are shown, never acted on
    shown = [[printable(cell) for cell in line] for line in lines]
    widths = [max(len(line[i]) for line in shown) for i in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in shown]
    for row in rows:
        if row["problem"]:
            text.append(printable(f"note: {row['name'] or row['address']}: {row['problem']}"))
    return "\n".join(text) + "\n"
