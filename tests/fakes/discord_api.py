"""A loopback fake of Discord's REST API and gateway, for the real discord.py client.

It serves what a plain `discord.Client` (discord.py 2.7) touches: login, application
commands, interaction callbacks, webhook follow-ups and channel messages, and a gateway
websocket that speaks HELLO, heartbeat ACK, IDENTIFY → READY and RESUME → RESUMED.
Every request and gateway frame is recorded for assertions, and failures can be
scripted per route ("429 twice", "503 once", "create the message but answer 503").

Two of discord.py's expectations shape the replies: the Content-Type must be exactly
`application/json` (a charset suffix makes it read the body as text), and a 429 must
carry a `Via` header, or the client takes it for a Cloudflare ban and gives up.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
EPHEMERAL = 64
TIMESTAMP = "2016-11-10T12:00:00+00:00"

Json = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to the API base, e.g. "/users/@me"
    query: Mapping[str, str]
    json: Any  # the parsed body, or None
    authorization: str | None
    status: int  # what the fake answered


@dataclass
class _ScriptedFailure:
    method: str
    path_glob: str
    status: int
    remaining: int
    retry_after: float | None
    apply_first: bool  # do the work, then answer with the failure (a lost response)


@dataclass
class GatewaySession:
    session_id: str
    sequence: int = 0


@dataclass
class FakeDiscord:
    """Start with `async with FakeDiscord() as fake:`; point the client at `api_base`."""

    token: str = "fake-bot-token.not-real"
    application_id: int = 100000000000000001
    bot_user_id: int = 100000000000000002
    heartbeat_interval_ms: int = 41250

    requests: list[RecordedRequest] = field(default_factory=list)
    gateway_frames: list[Json] = field(default_factory=list)  # what the client sent
    gateway_events: list[str] = field(default_factory=list)  # dispatches we sent, by name
    gateway_connections: int = 0
    sessions: dict[str, GatewaySession] = field(default_factory=dict)  # by session id
    channel_messages: dict[int, list[Json]] = field(default_factory=dict)
    followups: list[Json] = field(default_factory=list)
    commands: dict[int | None, list[Json]] = field(default_factory=dict)  # None: global

    _failures: list[_ScriptedFailure] = field(default_factory=list)
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _current: tuple[web.WebSocketResponse, GatewaySession] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2 * 10**17))
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Condition | None = None
    _gateway_open: asyncio.Event | None = None

    # Lifecycle

    async def __aenter__(self) -> FakeDiscord:
        self._changed = asyncio.Condition()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()
        app = web.Application()
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._gateway_open is not None and self._runner is not None
        self._gateway_open.set()
        for socket in list(self._sockets):
            await socket.close()
        await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{GATEWAY_PATH}"

    # Scripting and inspection

    def fail_next(
        self,
        method: str,
        path_glob: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        apply_first: bool = False,
    ) -> None:
        """Answer the next `times` matching calls with `status` (429s carry `retry_after`)."""
        self._failures.append(
            _ScriptedFailure(method, path_glob, status, times, retry_after, apply_first)
        )

    def calls(self, method: str, path_glob: str) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == method and fnmatch.fnmatchcase(r.path, path_glob)
        ]

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds; it is checked whenever anything is recorded."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def hold_gateway(self) -> None:
        """New gateway connections wait (before HELLO) until `release_gateway()`."""
        assert self._gateway_open is not None
        self._gateway_open.clear()

    def release_gateway(self) -> None:
        assert self._gateway_open is not None
        self._gateway_open.set()

    async def close_gateway(self, *, code: int = 4000) -> None:
        """Close the live websocket from the server side, as Discord does now and then."""
        current, self._current = self._current, None
        if current is not None:
            await current[0].close(code=code, message=b"fake server closed")

    @property
    def connected(self) -> bool:
        return self._current is not None

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a dispatch (op 0) on the live session."""
        assert self._current is not None, "no live gateway session"
        socket, session = self._current
        await self._send_dispatch(socket, session, event, data)

    def post_as_someone_else(self, channel_id: int, content: str) -> None:
        """A message in the channel from a user, not from the bot."""
        message = self._message(channel_id, {"content": content}, webhook=False)
        message["author"] = self._user(700, "someone")
        self.channel_messages.setdefault(channel_id, []).append(message)

    # Interaction payloads, as Discord sends them in INTERACTION_CREATE

    def slash_command(
        self, name: str, options: Mapping[str, str | int] | None = None, *, guild_id: int = 300
    ) -> Json:
        opts = [
            {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
            for key, value in (options or {}).items()
        ]
        return self._interaction(2, {"id": "1", "name": name, "type": 1, "options": opts}, guild_id)

    def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        others: Mapping[str, str] | None = None,
        *,
        guild_id: int = 300,
    ) -> Json:
        opts: list[Json] = [{"name": k, "type": 3, "value": v} for k, v in (others or {}).items()]
        opts.append({"name": focused, "type": 3, "value": value, "focused": True})
        return self._interaction(4, {"id": "1", "name": name, "type": 1, "options": opts}, guild_id)

    def _interaction(self, kind: int, data: Json, guild_id: int) -> Json:
        number = next(self._ids)
        return {
            "id": str(number),
            "application_id": str(self.application_id),
            "type": kind,
            "token": f"interaction-token-{number}",
            "version": 1,
            "guild_id": str(guild_id),
            "channel_id": "400",
            "member": {
                "user": self._user(500, "reader"),
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": "0",
            },
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }

    # REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await request.read()
        payload = json.loads(body) if body else None
        failure = self._take_failure(request.method, path)
        if failure is not None and not failure.apply_first:
            return await self._record(request, path, payload, self._failure_response(failure))
        response = self._route(request, path, payload)
        if failure is not None:
            response = self._failure_response(failure)
        return await self._record(request, path, payload, response)

    async def _record(
        self, request: web.Request, path: str, payload: Any, response: web.Response
    ) -> web.Response:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=path,
                query=dict(request.query),
                json=payload,
                authorization=request.headers.get("Authorization"),
                status=response.status,
            )
        )
        await self._notify()
        return response

    def _route(self, request: web.Request, path: str, payload: Any) -> web.Response:
        method, parts = request.method, path.strip("/").split("/")
        app = str(self.application_id)
        unauthenticated = parts[0] in ("interactions", "webhooks")
        if not unauthenticated and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        match method, parts:
            case "GET", ["users", "@me"]:
                return _json(self._user(self.bot_user_id, "briefbot", bot=True))
            case "GET", ["oauth2", "applications", "@me"]:
                return _json(self._application())
            case "GET", ["applications", a, "commands"] if a == app:
                return _json(self.commands.get(None, []))
            case "GET", ["applications", a, "guilds", guild, "commands"] if a == app:
                return _json(self.commands.get(int(guild), []))
            case "PUT", ["applications", a, "commands"] if a == app:
                return _json(self._store_commands(None, payload))
            case "PUT", ["applications", a, "guilds", guild, "commands"] if a == app:
                return _json(self._store_commands(int(guild), payload))
            case "POST", ["interactions", interaction_id, _token, "callback"]:
                return _json(self._callback(interaction_id, payload))
            case "POST", ["webhooks", a, _token] if a == app:
                message = self._message(400, payload, webhook=True)
                self.followups.append(message)
                return _json(message)
            case "DELETE", ["webhooks", a, _token, "messages", "@original"] if a == app:
                return web.Response(status=204)
            case "POST", ["channels", channel, "messages"]:
                return _json(self._channel_message(int(channel), payload))
            case "GET", ["channels", channel, "messages"]:
                limit = int(request.query.get("limit", "50"))
                newest_first = self.channel_messages.get(int(channel), [])[::-1]
                return _json(newest_first[:limit])
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _take_failure(self, method: str, path: str) -> _ScriptedFailure | None:
        for failure in self._failures:
            if failure.method == method and fnmatch.fnmatchcase(path, failure.path_glob):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _failure_response(failure: _ScriptedFailure) -> web.Response:
        if failure.status == 429:
            retry_after = failure.retry_after if failure.retry_after is not None else 0.05
            headers = {"Via": "1.1 google", "Retry-After": str(retry_after)}
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            return _json({**body, "global": False}, status=429, headers=headers)
        return _json({"message": f"scripted failure {failure.status}", "code": 0}, failure.status)

    def _store_commands(self, guild_id: int | None, payload: list[Json]) -> list[Json]:
        stored = []
        for command in payload:
            # Discord answers with ids and defaults, and leaves out false flags.
            options = [
                {k: v for k, v in option.items() if v is not False}
                for option in command.get("options", [])
            ]
            stored.append(
                {
                    "id": str(next(self._ids)),
                    "application_id": str(self.application_id),
                    "version": str(next(self._ids)),
                    "type": command.get("type", 1),
                    "default_member_permissions": None,
                    "nsfw": False,
                    "contexts": [0, 1, 2],
                    "integration_types": [0],
                    **({"guild_id": str(guild_id)} if guild_id is not None else {}),
                    **{k: v for k, v in command.items() if k != "options"},
                    **({"options": options} if options else {}),
                }
            )
        self.commands[guild_id] = stored
        return stored

    def _callback(self, interaction_id: str, payload: Json) -> Json:
        kind = payload["type"]
        flags = (payload.get("data") or {}).get("flags", 0)
        return {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            },
            "resource": {"type": kind},
        }

    def _channel_message(self, channel_id: int, payload: Json) -> Json:
        messages = self.channel_messages.setdefault(channel_id, [])
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            # Discord returns the earlier message instead of creating a second one.
            for message in messages:
                if message.get("nonce") == nonce:
                    return message
        message = self._message(channel_id, payload, webhook=False)
        messages.append(message)
        return message

    def _message(self, channel_id: int, payload: Json, *, webhook: bool) -> Json:
        message = {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "type": 0,
            "content": payload.get("content") or "",
            "embeds": payload.get("embeds") or [],
            "author": self._user(self.bot_user_id, "briefbot", bot=True),
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": payload.get("flags") or 0,
            "components": [],
            "nonce": payload.get("nonce"),
        }
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        return message

    def _application(self) -> Json:
        return {
            "id": str(self.application_id),
            "name": "briefbot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self._user(600, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    @staticmethod
    def _user(user_id: int, name: str, *, bot: bool = False) -> Json:
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": bot,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
        }

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        assert self._gateway_open is not None
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        self.gateway_connections += 1
        await self._notify()
        try:
            await self._gateway_open.wait()
            await socket.send_json(
                {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    break
                await self._on_frame(socket, json.loads(frame.data))
        finally:
            self._sockets.discard(socket)
            if self._current is not None and self._current[0] is socket:
                self._current = None
            await self._notify()
        return socket

    async def _on_frame(self, socket: web.WebSocketResponse, frame: Json) -> None:
        self.gateway_frames.append(frame)
        op = frame.get("op")
        if op == 1:
            await socket.send_json({"op": 11})
        elif op == 2:
            if frame["d"].get("token") != self.token:
                await socket.close(code=4004, message=b"Authentication failed.")
                return
            session = GatewaySession(session_id=f"session-{next(self._ids)}")
            self.sessions[session.session_id] = session
            self._current = (socket, session)
            ready = {
                "v": 10,
                "user": self._user(self.bot_user_id, "briefbot", bot=True),
                "guilds": [],
                "session_id": session.session_id,
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.application_id), "flags": 0},
            }
            await self._send_dispatch(socket, session, "READY", ready)
        elif op == 6:
            resumed = self.sessions.get(frame["d"].get("session_id", ""))
            if resumed is None or frame["d"].get("token") != self.token:
                await socket.send_json({"op": 9, "d": False})
                return
            self._current = (socket, resumed)
            await self._send_dispatch(socket, resumed, "RESUMED", {})
        await self._notify()

    async def _send_dispatch(
        self, socket: web.WebSocketResponse, session: GatewaySession, event: str, data: Json
    ) -> None:
        session.sequence += 1
        await socket.send_json({"op": 0, "t": event, "s": session.sequence, "d": data})
        self.gateway_events.append(event)
        await self._notify()

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()


def _json(
    body: Any, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": discord.py reads any other value as plain text.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
