"""A loopback fake of Slack for tests: Web API, response_url target and Socket Mode websocket.

It listens on 127.0.0.1 with an OS-chosen port, records every request, checks tokens and
Block Kit limits the way Slack does (independently of our renderer), and can be scripted
to fail. Point `AsyncWebClient(base_url=fake.base_url)` at it and use
`fake.response_url(...)` in slash-command payloads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
TEAM_ID = "T0TEST"
BOT_USER_ID = "U0BRIEFBOT"

RESPONSE_URL = "response_url"  # the `method` recorded for posts to a response URL

# Slack's documented Block Kit limits, kept apart from the renderer's own constants.
_MAX_BLOCKS = 50
_MAX_SECTION_TEXT = 3000
_MAX_HEADER_TEXT = 150
_MAX_CONTEXT_ELEMENTS = 10
_MAX_RESPONSE_URL_POSTS = 5  # Slack's limit per response_url; then it answers 404 used_url


@dataclass(frozen=True)
class Recorded:
    method: str  # "chat.postMessage", ... or RESPONSE_URL
    path: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    status: int  # what the fake answered
    ok: bool
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic clock)


@dataclass(frozen=True)
class Failure:
    status: int
    error: str
    retry_after: int | None


def block_errors(message: Mapping[str, Any]) -> list[str]:
    """What Slack would reject in a message payload (an empty list when it is valid)."""
    errors: list[str] = []
    if not str(message.get("text", "")).strip():
        errors.append("no text fallback")
    blocks = message.get("blocks", [])
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not blocks or len(blocks) > _MAX_BLOCKS:
        errors.append(f"{len(blocks)} blocks")
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            text = block["text"]
            if text["type"] != "plain_text" or not 0 < len(text["text"]) <= _MAX_HEADER_TEXT:
                errors.append(f"bad header: {len(text['text'])} chars")
        elif kind == "section":
            if not 0 < len(block["text"]["text"]) <= _MAX_SECTION_TEXT:
                errors.append(f"section of {len(block['text']['text'])} chars")
        elif kind == "context":
            elements = block["elements"]
            if not 0 < len(elements) <= _MAX_CONTEXT_ELEMENTS:
                errors.append(f"context of {len(elements)} elements")
            for element in elements:
                if not 0 < len(element["text"]) <= _MAX_SECTION_TEXT:
                    errors.append(f"context element of {len(element['text'])} chars")
        elif kind != "divider":
            errors.append(f"unexpected block {kind!r}")
    return errors


class FakeSlack:
    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.requests: list[Recorded] = []
        self.acks: list[dict[str, Any]] = []  # Socket Mode envelope acknowledgements
        self._failures: dict[str, deque[Failure | None]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack-sdk reads history with GET
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0
        self.history_allowed = True  # False: answer conversations.history with missing_scope
        self._held: dict[str, int] = {}  # method: calls to let through before holding one
        self._dropped: dict[str, int] = {}  # method: calls to let through before dropping one
        self._kept_out: dict[str, str] = {}  # channel: the error posting there gets
        self.connections = 0  # Socket Mode websockets opened so far
        self._release = asyncio.Event()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self.release()
        for ws in list(self._sockets):
            await ws.close()
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- scripting and inspection ---------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Make `times` calls of `method` fail, after `after` more calls succeed.

        Slack's Retry-After is whole seconds; keep it at 1 in tests.
        """
        queue = self._failures[method]
        queue.extend([None] * after + [Failure(status, error, retry_after)] * times)

    def hold_answer(self, method: str, *, after: int = 0) -> None:
        """Carry out the call of `method` that follows `after` more, then keep its answer
        back until `release()`: Slack has stored the message, the sender does not know."""
        self._held[method] = after

    def release(self) -> None:
        self._release.set()

    def drop_answer(self, method: str, *, after: int = 0) -> None:
        """Carry out the call of `method` that follows `after` more, then close the
        connection without answering: Slack has stored the message, and the client sees
        the server disconnect (what slack-sdk's connection-error handler would retry)."""
        self._dropped[method] = after

    def keep_out(self, channel: str, *, error: str = "not_in_channel") -> None:
        """The bot is not in `channel`: chat.postMessage and chat.postEphemeral there fail
        with `error` (`not_in_channel`, or `channel_not_found` for DMs and private ones)."""
        self._kept_out[channel] = error

    async def drop_sockets(self) -> None:
        """Close every Socket Mode websocket from Slack's side."""
        for ws in list(self._sockets):
            await ws.close()

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method]

    def posted(self, method: str = "chat.postMessage") -> list[Mapping[str, Any]]:
        """Bodies that the fake accepted (what Slack would have stored and shown)."""
        return [r.body for r in self.calls(method) if r.ok]

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # -- Socket Mode ----------------------------------------------------------------

    async def send_envelope(
        self, payload: Mapping[str, Any], *, kind: str = "slash_commands", envelope_id: str
    ) -> None:
        await self.wait_until(lambda: bool(self._sockets))
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": True,
        }
        await self._sockets[-1].send_str(json.dumps(envelope))

    # -- handlers -------------------------------------------------------------------

    async def _record(self, record: Recorded) -> None:
        self.requests.append(record)
        await self._notify()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _body(request)
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        failure = self._failures[method].popleft() if self._failures[method] else None
        answer: dict[str, Any]
        headers: dict[str, str] = {}
        status = 200
        if request.headers.get("Authorization") != f"Bearer {expected}":
            answer = {"ok": False, "error": "invalid_auth"}
        elif failure is not None:
            status = failure.status
            answer = {"ok": False, "error": failure.error}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
        else:
            answer = self._answer(method, body)
        await self._record(
            Recorded(method, request.path, dict(request.headers), body, status, answer["ok"])
        )
        if method in self._held:
            if self._held[method] == 0:
                del self._held[method]
                await self._release.wait()
            else:
                self._held[method] -= 1
        if method in self._dropped:
            if self._dropped[method] == 0:
                del self._dropped[method]
                assert request.transport is not None
                request.transport.close()
            else:
                self._dropped[method] -= 1
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, method: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://briefbot-test.slack.com/",
                "team": "Test",
                "user": "briefbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "B0BRIEFBOT",
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=t1"}
        if method == "conversations.history":
            if not self.history_allowed:
                return {"ok": False, "error": "missing_scope", "needed": "channels:history"}
            channel = body.get("channel")
            stored = [b for b in self.posted() if b.get("channel") == channel]
            newest_first = [
                {
                    "type": "message",
                    "bot_id": "B0BRIEFBOT",
                    "text": b.get("text", ""),
                    "blocks": _blocks(b),
                }
                for b in reversed(stored)
            ]
            return {"ok": True, "messages": newest_first[: int(body.get("limit", 100))]}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            kept_out = self._kept_out.get(str(body.get("channel")))
            if kept_out is not None:
                return {"ok": False, "error": kept_out}
            errors = block_errors(body)
            if errors:
                return {"ok": False, "error": "invalid_blocks", "errors": errors}
            ts = f"1700000000.{next(self._ts):06d}"
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            return {"ok": True, "channel": body.get("channel"), "ts": ts}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await _body(request)
        used = [r for r in self.calls(RESPONSE_URL) if r.path == request.path and r.ok]
        errors = block_errors(body)
        status, text = (400, "invalid_blocks") if errors else (200, "ok")
        if len(used) >= _MAX_RESPONSE_URL_POSTS:
            status, text = 404, "used_url"
        ok = status == 200
        await self._record(
            Recorded(RESPONSE_URL, request.path, dict(request.headers), body, status, ok)
        )
        return web.Response(status=status, text=text)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        await self._notify()  # send_envelope may be waiting for a connection
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self.acks.append(json.loads(frame.data))
                    await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def _blocks(body: Mapping[str, Any]) -> list[Any]:
    blocks = body.get("blocks", [])
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        parsed = json.loads(raw) if raw else {}
        return dict(parsed)
    return dict(parse_qsl(raw, keep_blank_values=True))
