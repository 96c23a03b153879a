"""The Slack adapter: one `/brief` slash command, and a Sender for scheduled digests.

`/brief quotes Peskov since:2016-11-01` is handed to the Dispatcher as the typed line
`quotes Peskov since:2016-11-01`, so the subcommands are whatever the registry holds.
Slack wants an acknowledgement within 3 s, so we ack at once, run the handler in a
thread (handlers query the database), and post the reply to the command's response_url.

Two connection modes, chosen by the settings:
- Socket Mode when an app token is set (slack_bolt's AsyncSocketModeHandler, aiohttp client);
- HTTP mode otherwise, verified with the signing secret. We serve Bolt's own aiohttp
  application (`AsyncApp.web_app`) from our own `AppRunner` rather than `AsyncApp.start()`,
  because `start()` calls `web.run_app`, which blocks and owns the event loop; we run as
  one task among others and must be able to close cleanly.

Tokens and the signing secret are never logged: the settings hide them from `repr`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import Dispatcher
from bot.delivery import DeliveryError
from bot.render.slack import Message, render_messages
from bot.reply import Reply

logger = logging.getLogger(__name__)

PUBLIC_FLAG = "--public"
PRIVATE_FLAG = "--private"
RESPONSE_URL_POSTS = 5  # Slack accepts at most five posts to one response_url
HISTORY_LIMIT = 100  # recent messages searched for a digest's marker after a crash
HTTP_PATH = "/slack/events"
CLOSE_GRACE_SECONDS = 5.0  # for answers still in flight at close()
CONNECT_TIMEOUT_SECONDS = 30.0
RATE_LIMIT_RETRIES = 2  # each waits Slack's Retry-After; then the outbox takes over
# Error codes after which the same post may well succeed later.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

FAILED_REPLY = Reply(title="Sorry, something went wrong. Please try again later.", is_error=True)


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    command: str = "/brief"
    port: int = 3000
    reply_in_channel: bool = False
    api_base: str | None = None  # the Web API base URL, for tests and proxies

    def __post_init__(self) -> None:
        if not self.bot_token:
            raise ValueError("Slack needs a bot token.")
        if not self.command.startswith("/") or len(self.command) < 2:
            raise ValueError(f"A Slack command starts with '/', not {self.command!r}.")
        if not (self.app_token or self.signing_secret):
            raise ValueError("Slack needs an app token (Socket Mode) or a signing secret (HTTP).")

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        """Settings from SLACK_* variables, or None when Slack is not configured.

        Other options (command, port, reply_in_channel) come from the YAML config through
        `dataclasses.replace`.
        """
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        if not bot_token or not (app_token or signing_secret):
            return None
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            api_base=env.get("SLACK_API_BASE", "").strip() or None,
        )


def make_web_client(settings: SlackSettings) -> AsyncWebClient:
    """The Web API client, retrying a 429 after Slack's Retry-After (slack-sdk won't by default)."""
    retry_handlers = [
        AsyncConnectionErrorRetryHandler(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]
    if settings.api_base:
        return AsyncWebClient(
            token=settings.bot_token, base_url=settings.api_base, retry_handlers=retry_handlers
        )
    return AsyncWebClient(token=settings.bot_token, retry_handlers=retry_handlers)


def split_visibility(text: str, *, default_public: bool) -> tuple[str, bool]:
    """Take `--public` / `--private` out of the command text; the last one given wins."""
    public = default_public
    words: list[str] = []
    for word in text.split():
        if word.lower() == PUBLIC_FLAG:
            public = True
        elif word.lower() == PRIVATE_FLAG:
            public = False
        else:
            words.append(word)
    return " ".join(words), public


def unescape_command_text(text: str) -> str:
    """Slack sends `&`, `<`, `>` in command text as entities; the core wants what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackSender:
    """Posts replies with chat.postMessage: the Sender for `slack:<channel id>` targets.

    A multi-message reply is posted in order. If a later message fails, the messages
    already posted are remembered (in this process), so the outbox's retry resumes
    where it stopped instead of posting them twice.
    """

    platform = "slack"
    _MEMORY = 256

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._posted: OrderedDict[tuple[str, str], int] = OrderedDict()

    async def send(self, channel: str, reply: Reply) -> None:
        messages = render_messages(reply)
        key = (channel, _fingerprint(messages))
        done = self._posted.pop(key, 0)
        try:
            for number, message in enumerate(messages):
                if number < done:
                    continue
                await self._client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **message
                )
                done = number + 1
        except SlackApiError as error:
            self._remember(key, done)
            raise _delivery_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            self._remember(key, done)
            raise DeliveryError(f"Slack unreachable: {type(error).__name__}", retryable=True) from (
                error
            )

    async def already_delivered(self, channel: str, marker: str) -> bool:
        """Whether one of the channel's recent messages carries the marker. Needs the
        `channels:history` scope (`groups:history` for private channels); without it we
        cannot tell, and answer False so the digest is resent rather than lost."""
        try:
            response = await self._client.conversations_history(
                channel=channel, limit=HISTORY_LIMIT
            )
        except SlackApiError as error:
            code = (
                str(error.response.get("error", ""))
                if isinstance(error.response.data, dict)
                else ""
            )
            if code in ("missing_scope", "not_in_channel", "channel_not_found"):
                logger.warning(
                    "cannot read channel history to check a digest", extra={"error": code}
                )
                return False
            raise _delivery_error(error, "conversations.history") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(
                f"Slack unreachable: {type(error).__name__}", retryable=True
            ) from error
        messages: list[Any] = response.get("messages", []) or []
        return any(marker in json.dumps(message, ensure_ascii=False) for message in messages)

    def _remember(self, key: tuple[str, str], done: int) -> None:
        if done:
            self._posted[key] = done
            while len(self._posted) > self._MEMORY:
                self._posted.popitem(last=False)


def _fingerprint(messages: list[Message]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def _delivery_error(error: SlackApiError, method: str = "chat.postMessage") -> DeliveryError:
    response = error.response
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error", "")) or f"HTTP {response.status_code}"
    retry_after: float | None = None
    with contextlib.suppress(TypeError, ValueError):
        retry_after = float(response.headers.get("Retry-After", ""))
    retryable = (
        response.status_code == 429 or response.status_code >= 500 or code in RETRYABLE_ERRORS
    )
    return DeliveryError(f"{method} failed: {code}", retryable=retryable, retry_after=retry_after)


class SlackAdapter:
    """Serves the slash command until closed. `start()` returns once Slack can reach us."""

    def __init__(
        self,
        settings: SlackSettings,
        dispatcher: Dispatcher[Any],
        *,
        host: str = "0.0.0.0",
        path: str = HTTP_PATH,
    ) -> None:
        self.settings = settings
        self._dispatcher = dispatcher
        self._host = host
        self._path = path
        self.client = make_web_client(settings)
        self.sender = SlackSender(self.client)
        self.app = AsyncApp(
            name="briefbot",
            client=self.client,
            signing_secret=settings.signing_secret or "",
            # Socket Mode requests are authenticated by the websocket, not signed.
            request_verification_enabled=not settings.socket_mode,
        )
        self.app.command(settings.command)(self._on_command)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._answers: set[asyncio.Task[None]] = set()

    @property
    def mode(self) -> Literal["socket", "http"]:
        return "socket" if self.settings.socket_mode else "http"

    @property
    def port(self) -> int | None:
        """The bound HTTP port (useful when settings.port is 0), or None in Socket Mode."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Connect (Socket Mode) or listen (HTTP); on failure, nothing is left running."""
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        # A bad bot token should fail here, not on a user's first command.
        await self.client.auth_test()
        app_token = self.settings.app_token
        if app_token:
            # Ask for the websocket URL ourselves: with a bad app token the SDK's connect()
            # would retry for ever, and start() should fail instead.
            opened = await self.client.apps_connections_open(app_token=app_token)
            self._socket = AsyncSocketModeHandler(self.app, app_token)
            self._socket.client.wss_uri = opened["url"]
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
            logger.info("Slack: connected in Socket Mode, command %s", self.settings.command)
            return
        self._runner = web.AppRunner(self.app.web_app(path=self._path), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self.settings.port).start()
        logger.info("Slack: listening on port %s%s", self.port, self._path)

    async def close(self) -> None:
        if self._socket is not None:
            client = self._socket.client
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            # close() cancels its tasks without waiting for them; wait, so none outlives us.
            tasks = [client.message_processor, client.message_receiver]
            tasks.append(client.current_session_monitor)
            await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._answers:
            _, late = await asyncio.wait(self._answers, timeout=CLOSE_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- the slash command ----------------------------------------------------------

    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        self._spawn(self._answer(command, respond))

    def _spawn(self, answer: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(answer)
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, command: Mapping[str, Any], respond: AsyncRespond) -> None:
        try:
            await self._run_and_reply(command, respond)
        except Exception:
            logger.exception("Slack: could not answer a command")

    async def _run_and_reply(self, command: Mapping[str, Any], respond: AsyncRespond) -> None:
        line, public = split_visibility(
            unescape_command_text(str(command.get("text", ""))),
            default_public=self.settings.reply_in_channel,
        )
        try:
            reply = await asyncio.to_thread(self._dispatcher.run_line, line)
        except Exception:
            logger.exception("Slack: the %r command failed", line.split(" ", 1)[0])
            reply = FAILED_REPLY
        public = public and not reply.is_error  # a typo's help is for its author only
        response_type = "in_channel" if public else "ephemeral"
        for number, message in enumerate(render_messages(reply)):
            if number < RESPONSE_URL_POSTS:
                await self._respond(respond, {**message, "response_type": response_type})
            else:
                await self._post_beyond_response_url(command, message, public=public)

    async def _respond(self, respond: AsyncRespond, message: Message) -> None:
        try:
            response = await respond(message)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("Slack: response_url unreachable (%s)", type(error).__name__)
            return
        if response.status_code != 200:
            logger.warning("Slack: response_url answered HTTP %s", response.status_code)

    async def _post_beyond_response_url(
        self, command: Mapping[str, Any], message: Message, *, public: bool
    ) -> None:
        """Messages past response_url's five go through the Web API, to the same audience."""
        post: Callable[..., Coroutine[Any, Any, Any]] = (
            self.client.chat_postMessage if public else self.client.chat_postEphemeral
        )
        audience = {} if public else {"user": command.get("user_id")}
        try:
            await post(channel=command.get("channel_id"), **audience, **message)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning("Slack: could not post the rest of a long reply (%s)", error)
