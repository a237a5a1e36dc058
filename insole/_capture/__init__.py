"""Live capture: the dual-insole BLE collector (the only asyncio code of ``insole``).

Modules:

* ``_sequence``: per-stream packet accounting (sent, received, lost, duplicate, reordered);
* ``_timeline``: places each foot's samples into slots on its device clock, lost ones invalid;
* ``_clock``: online device-clock -> session-clock estimate (offset + drift) and the written time axis;
* ``_quality``: the capture-quality figures stored in ``meta.capture_quality``;
* ``_collector``: bleak scanning, connecting, commands, notifications, reconnects;
* ``_session``: one recording session: collector + writer + live hub.
"""
