"""A loopback fake of Discord's REST API and gateway, for the real discord.py client.

It serves what a plain `discord.Client` (discord.py 2.7) touches: login, application
commands, interaction callbacks, webhook follow-ups and channel messages, and a gateway
websocket that speaks HELLO, heartbeat ACK, IDENTIFY → READY, RESUME → RESUMED, and
INVALID_SESSION (op 9) when a session it forgot is resumed. Every request and gateway
frame is recorded for assertions, and failures can be scripted per route ("429 twice",
"503 once", "create the message but answer 503", "drop the connection").

Interaction responses follow Discord's documented rules ("Create Followup Message" in
the interactions reference): after a deferral (callback type 5) the original response is
a loading message with the deferral's visibility; the first follow-up POST then edits it
instead of creating a message, and its ephemeral flag is ignored. `interactions` holds
what each user would see.

Like Discord, it drops a channel message whose `nonce` it saw from the bot within the
last few minutes (`nonce_window_seconds`, measured by `clock`, which a test may share
with the bot's), and not after that. An answer can be held back until released.

Two of discord.py's expectations shape the replies: the Content-Type must be exactly
`application/json` (a charset suffix makes it read the body as text), and a 429 must
carry a `Via` header, or the client takes it for a Cloudflare ban and gives up.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
EPHEMERAL = 64
LOADING = 128  # the message flag of a deferred response that is still "thinking…"
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
ALREADY_ACKNOWLEDGED = 40060
DROPPED = 599  # recorded as the status of a request whose connection the fake dropped
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
    drop: bool  # close the connection instead of answering: a network error
    skip: int = 0  # matching calls to let through first


@dataclass
class InteractionState:
    """One interaction as Discord keeps it, by token: its response and follow-ups."""

    callback: int | None = None  # the response type: 4 (message), 5 (deferred), 8 ...
    original: Json | None = None  # the original response message, once there is one
    loading: bool = False  # deferred, and not edited yet
    deleted: bool = False  # the original response was deleted
    followups: list[Json] = field(default_factory=list)

    @property
    def visible(self) -> list[Json]:
        """The messages the user sees at the end, original first; flags tell who else does."""
        original = [] if self.original is None or self.deleted else [self.original]
        return original + self.followups


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
    port: int = 0  # 0: any free port; a test may start a fake at a port chosen earlier
    nonce_window_seconds: float = 300.0  # how long a message nonce is remembered
    clock: Callable[[], float] = time.monotonic  # seconds, for the nonce window

    requests: list[RecordedRequest] = field(default_factory=list)
    gateway_frames: list[Json] = field(default_factory=list)  # what the client sent
    gateway_events: list[str] = field(default_factory=list)  # dispatches we sent, by name
    gateway_connections: int = 0
    sessions: dict[str, GatewaySession] = field(default_factory=dict)  # by session id
    channel_messages: dict[int, list[Json]] = field(default_factory=dict)
    followups: list[Json] = field(default_factory=list)
    commands: dict[int | None, list[Json]] = field(default_factory=dict)  # None: global
    interactions: dict[str, InteractionState] = field(default_factory=dict)  # by token

    _failures: list[_ScriptedFailure] = field(default_factory=list)
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _current: tuple[web.WebSocketResponse, GatewaySession] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2 * 10**17))
    _runner: web.AppRunner | None = None
    _port: int = 0
    _nonces: dict[tuple[int, str], tuple[float, Json]] = field(default_factory=dict)
    _held: dict[tuple[str, str], int] = field(default_factory=dict)
    _release: asyncio.Event | None = None
    _changed: asyncio.Condition | None = None
    _gateway_open: asyncio.Event | None = None

    # Lifecycle

    async def __aenter__(self) -> FakeDiscord:
        self._changed = asyncio.Condition()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._gateway_open is not None and self._runner is not None
        self._gateway_open.set()
        self.release()
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
        drop: bool = False,
        after: int = 0,
    ) -> None:
        """Answer the next `times` matching calls with `status` (429s carry `retry_after`),
        or with `drop`, close the connection without an answer; after letting `after`
        matching calls through."""
        self._failures.append(
            _ScriptedFailure(
                method, path_glob, status, times, retry_after, apply_first, drop, skip=after
            )
        )

    def hold_answer(self, method: str, path_glob: str, *, after: int = 0) -> None:
        """Carry out the matching call that follows `after` more, then keep its answer
        back until `release()`: Discord has stored the message, the bot does not know."""
        self._held[(method, path_glob)] = after

    def release(self) -> None:
        if self._release is not None:
            self._release.set()

    def forget_sessions(self) -> None:
        """Discord drops every session: a RESUME gets INVALID_SESSION (op 9, not resumable)."""
        self.sessions.clear()

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
            response = self._failure_response(failure)
        else:
            response = self._route(request, path, payload)
            if failure is not None:
                response = self._failure_response(failure)
        if failure is not None and failure.drop:
            assert request.transport is not None
            request.transport.close()  # the client sees the server disconnect
            response = web.Response(status=DROPPED)
        recorded = await self._record(request, path, payload, response)
        await self._hold(request.method, path)
        return recorded

    async def _hold(self, method: str, path: str) -> None:
        for key, after in list(self._held.items()):
            if key[0] == method and fnmatch.fnmatchcase(path, key[1]):
                if after == 0:
                    del self._held[key]
                    assert self._release is not None
                    await self._release.wait()
                else:
                    self._held[key] = after - 1
                return

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
            case "POST", ["interactions", interaction_id, token, "callback"]:
                return self._callback(interaction_id, token, payload)
            case "POST", ["webhooks", a, token] if a == app:
                return self._followup(token, payload)
            case "PATCH", ["webhooks", a, token, "messages", "@original"] if a == app:
                return self._edit_original(token, payload)
            case "DELETE", ["webhooks", a, token, "messages", "@original"] if a == app:
                return self._delete_original(token)
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
                if failure.skip > 0:
                    failure.skip -= 1
                    return None
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
                    # a guild's commands carry its id; global ones the old DM default
                    **({"guild_id": str(guild_id)} if guild_id is not None else {}),
                    **({"dm_permission": True} if guild_id is None else {}),
                    **{k: v for k, v in command.items() if k != "options"},
                    **({"options": options} if options else {}),
                }
            )
        self.commands[guild_id] = stored
        return stored

    # Interaction responses

    def _callback(self, interaction_id: str, token: str, payload: Json) -> web.Response:
        state = self.interactions.setdefault(token, InteractionState())
        if state.callback is not None:
            return _error(400, "Interaction has already been acknowledged.", ALREADY_ACKNOWLEDGED)
        kind = payload["type"]
        data = payload.get("data") or {}
        flags = data.get("flags") or 0
        state.callback = kind
        resource: Json = {"type": kind}
        if kind in (4, 5):
            state.loading = kind == 5
            shown = flags & EPHEMERAL | (LOADING if state.loading else 0)
            state.original = self._message(400, {**data, "flags": shown}, webhook=True)
            resource["message"] = state.original
        return _json(
            {
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_id": state.original["id"] if state.original else None,
                    "response_message_loading": state.loading,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                },
                "resource": resource,
            }
        )

    def _followup(self, token: str, payload: Json) -> web.Response:
        state = self.interactions.get(token)
        if state is None or state.callback is None:
            return _error(404, "Unknown Webhook", UNKNOWN_WEBHOOK)
        if state.loading:
            # Documented: directly after a deferral this edits the loading message, and
            # the ephemeral flag is ignored: the deferral's visibility stays.
            return self._edit_original(token, payload)
        message = self._message(400, payload, webhook=True)
        state.followups.append(message)
        self.followups.append(message)
        return _json(message)

    def _edit_original(self, token: str, payload: Json) -> web.Response:
        state = self.interactions.get(token)
        if state is None or state.original is None or state.deleted:
            return _error(404, "Unknown Message", UNKNOWN_MESSAGE)
        if "content" in payload:
            state.original["content"] = payload["content"] or ""
        if "embeds" in payload:
            state.original["embeds"] = payload["embeds"] or []
        state.original["flags"] &= EPHEMERAL  # no longer loading; visibility never changes
        state.loading = False
        return _json(state.original)

    def _delete_original(self, token: str) -> web.Response:
        state = self.interactions.get(token)
        # Only a response that exists as a message can be deleted. Discord's docs say
        # nothing of deleting a deferral still "thinking…" (it used to fail with Unknown
        # Message, discord-api-docs#2739), so the fake refuses it: the bot must not rely on it.
        if state is None or state.original is None or state.deleted or state.loading:
            return _error(404, "Unknown Message", UNKNOWN_MESSAGE)
        state.deleted = True
        return web.Response(status=204)

    def _channel_message(self, channel_id: int, payload: Json) -> Json:
        messages = self.channel_messages.setdefault(channel_id, [])
        nonce = payload.get("nonce")
        now = self.clock()
        if nonce is not None and payload.get("enforce_nonce"):
            # Within the window Discord returns the earlier message instead of creating
            # a second one; after it, the nonce is forgotten.
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and now - seen[0] < self.nonce_window_seconds:
                return seen[1]
        message = self._message(channel_id, payload, webhook=False)
        messages.append(message)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (now, message)
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


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _json(
    body: Any, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": discord.py reads any other value as plain text.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
