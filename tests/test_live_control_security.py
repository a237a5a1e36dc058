"""Live control: the session secret, the Host check and the Origin check of the live server.

Issue 15: any local process could open the websocket and stop, start, zero or mark a capture, and with
``--host`` a web page could do the same by DNS rebinding (the Origin was compared with the Host the page
chose). These tests drive a real ``LiveServer`` on a loopback port with aiohttp, as an attacker would.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from dashboards import LiveServer, SessionControl
from insole import Mark, get_layout
from insole.capture import LiveHub

ROUTES = ("/", "/static/live.js", "/static/plotly.min.js", "/healthz")


class Capture:
    """A ``SessionControl`` double that records what it was asked to do."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.path: Path | None = Path("running.arrows")  # recording from the start, as `insole live` does

    @property
    def recording_path(self) -> Path | None:
        return self.path

    async def start_recording(self) -> Path:
        self.calls.append("start_recording")
        self.path = Path("new.arrows")
        return self.path

    async def stop_recording(self) -> Path:
        self.calls.append("stop_recording")
        self.path = None
        return Path("running.parquet")

    async def mark(self, label: str) -> Mark:
        self.calls.append("mark")
        return Mark(time_s=1.0, label=label)

    async def zero(self) -> None:
        self.calls.append("zero")


def _server(session: SessionControl | None = None, **options) -> LiveServer:
    return LiveServer(
        LiveHub(), layout=get_layout("insole16"), unit="kPa", sample_rate_hz=100.0, port=0, session=session, **options
    )


def _ws(server: LiveServer, token: str | None) -> str:
    query = "" if token is None else f"?token={token}"
    return f"ws://127.0.0.1:{server.bound_port}/ws{query}"


async def _ack(ws: aiohttp.ClientWebSocketResponse) -> dict:
    while True:
        message = json.loads((await ws.receive(timeout=10)).data)
        if message["type"] == "ack":
            return message


def test_each_server_draws_its_own_secret_and_puts_it_in_the_url() -> None:
    async def run() -> tuple[str, LiveServer, str, LiveServer]:
        first, second = _server(), _server()
        url_1, url_2 = await first.start(), await second.start()
        await first.stop()
        await second.stop()
        return url_1, first, url_2, second

    url_1, first, url_2, second = asyncio.run(run())
    assert url_1 == f"http://127.0.0.1:{first.bound_port}/?token={first.token}"
    assert parse_qs(urlsplit(url_2).query) == {"token": [second.token]}
    assert first.token != second.token
    # token_urlsafe(32): 32 random bytes, 43 URL-safe characters
    assert len(first.token) == 43 and set(first.token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


async def test_a_websocket_without_the_secret_or_with_a_wrong_one_is_refused() -> None:
    server = _server(Capture())
    await server.start()
    try:
        async with aiohttp.ClientSession() as client:
            for token in (None, "", "wrong", server.token[:-1], server.token + "x"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(_ws(server, token))
                assert refused.value.status == 403, token
            # the secret opens it, and the hello does not give the secret away
            async with client.ws_connect(_ws(server, server.token)) as ws:
                hello = (await ws.receive(timeout=10)).data
                assert json.loads(hello)["type"] == "hello" and server.token not in hello
    finally:
        await server.stop()


async def test_a_control_without_the_right_secret_is_not_acted_on() -> None:
    capture = Capture()
    server = _server(capture)
    await server.start()
    try:
        async with aiohttp.ClientSession() as client, client.ws_connect(_ws(server, server.token)) as ws:
            forged = [
                {},
                {"token": None},
                {"token": ""},
                {"token": "wrong"},
                {"token": server.token.upper()},
                {"token": [server.token]},
            ]
            for n, extra in enumerate(forged):
                for action in ("zero", "stop_recording", "start_recording", "mark"):
                    await ws.send_str(json.dumps({"type": "control", "id": n, "action": action, "label": "x", **extra}))
                    ack = await _ack(ws)
                    assert ack["ok"] is False and ack["id"] == n, ack
                    assert ack["message"] == "refused: the control did not carry this session's secret"
            # nothing happened: the capture keeps recording, nothing was zeroed or marked
            assert capture.calls == [] and capture.recording_path == Path("running.arrows")
            assert server.controls_refused == len(forged) * 4 and server.controls_handled == 0
            # the same control with the secret is acted on (so the refusals above were the secret's doing)
            await ws.send_str(json.dumps({"type": "control", "id": 7, "action": "zero", "token": server.token}))
            ack = await _ack(ws)
            assert ack == {"type": "ack", "id": 7, "action": "zero", "ok": True, "message": "zeroed"}
            assert capture.calls == ["zero"]
    finally:
        await server.stop()


async def test_a_rebinding_host_is_refused_on_every_route() -> None:
    server = _server(Capture())
    await server.start()
    port = server.bound_port
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client:
            for host in (
                f"evil.example:{port}",
                "evil.example",
                f"127.0.0.1.evil.example:{port}",
                f"localhost.evil.example:{port}",
                f"127.0.0.1:{port + 1}",
                f"localhost:{port + 1}",
                "",
            ):
                for route in ROUTES:
                    async with client.get(base + route, headers={"Host": host}) as response:
                        assert response.status == 403, (host, route)
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(_ws(server, server.token), headers={"Host": host})
                assert refused.value.status == 403, host
            # the names that really are this server
            for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
                for route in ROUTES:
                    async with client.get(base + route, headers={"Host": host}) as response:
                        assert response.status == 200, (host, route)
                async with client.ws_connect(_ws(server, server.token), headers={"Host": host}) as ws:
                    assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
    finally:
        await server.stop()


async def test_an_origin_must_be_this_server_not_whatever_the_host_says() -> None:
    capture = Capture()
    server = _server(capture)
    await server.start()
    port = server.bound_port
    try:
        async with aiohttp.ClientSession() as client:
            for origin in (
                f"http://evil.example:{port}",
                "http://evil.example",
                "null",
                f"https://127.0.0.1:{port}",
                f"http://127.0.0.1:{port + 1}",
                f"http://127.0.0.1:{port}/page",
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(_ws(server, server.token), headers={"Origin": origin})
                assert refused.value.status == 403, origin
                async with client.get(f"http://127.0.0.1:{port}/", headers={"Origin": origin}) as response:
                    assert response.status == 403, origin
            # the attacker's page names itself in both Host and Origin: they agree, and both are refused
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(
                    _ws(server, server.token),
                    headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
                )
            assert refused.value.status == 403
            for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
                async with client.ws_connect(_ws(server, server.token), headers={"Origin": origin}) as ws:
                    assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
        assert capture.calls == []
    finally:
        await server.stop()


async def test_a_wildcard_bind_accepts_addresses_but_no_other_name() -> None:
    # `insole live --host 0.0.0.0`: the page is opened by one of the machine's addresses, which we cannot
    # list in advance; an address cannot be re-pointed by DNS, a name can, so names other than localhost go
    server = _server(host="0.0.0.0", allow_remote=True)
    await server.start()
    port = server.bound_port
    try:
        async with aiohttp.ClientSession() as client:
            for host, status in (
                (f"192.0.2.10:{port}", 200),
                (f"127.0.0.1:{port}", 200),
                (f"localhost:{port}", 200),
                (f"0.0.0.0:{port}", 200),
                (f"evil.example:{port}", 403),
                (f"192.0.2.10:{port + 1}", 403),
                ("192.0.2.10", 403),
            ):
                async with client.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": host}) as response:
                    assert response.status == status, host
    finally:
        await server.stop()


async def test_a_name_given_with_host_is_accepted() -> None:
    # `insole live --host localhost`: the name given, and the addresses it was bound to
    server = _server(host="localhost")
    url = await server.start()
    port = server.bound_port
    assert url.startswith(f"http://localhost:{port}/?token=")
    try:
        async with aiohttp.ClientSession() as client:
            for host, status in ((f"localhost:{port}", 200), (f"evil.example:{port}", 403)):
                async with client.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": host}) as response:
                    assert response.status == status, host
    finally:
        await server.stop()
