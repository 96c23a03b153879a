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
import json
import logging
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
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages as m
from bot.commands import Dispatcher
from bot.delivery import DeliveryError, Progress, Seen, seen_in
from bot.render.slack import Message, render_messages
from bot.reply import Reply, Section

logger = logging.getLogger(__name__)

PUBLIC_FLAG = "--public"
PRIVATE_FLAG = "--private"
RESPONSE_URL_POSTS = 5  # Slack accepts at most five posts to one response_url
HISTORY_LIMIT = 100  # recent messages searched for a digest's marker after a crash
HTTP_PATH = "/slack/events"
CLOSE_GRACE_SECONDS = 5.0  # for answers still in flight at close()
CONNECT_TIMEOUT_SECONDS = 30.0
RATE_LIMIT_RETRIES = 2  # each waits Slack's Retry-After; then the outbox takes over
RATE_LIMIT_WAIT_SECONDS = 30.0  # a longer Retry-After is the outbox's to wait, not ours
# Error codes after which the same post may well succeed later.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Error codes after which Slack may have posted the message all the same.
MAYBE_POSTED_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout"})

# After these answers to apps.connections.open, reconnecting cannot succeed (a revoked or
# wrong app token): Socket Mode has ended for good, though the SDK would retry for ever.
RETRYABLE_CONNECT_STATUS = frozenset({429, 500, 502, 503, 504})

FAILED_REPLY = Reply(title=m.COMMAND_FAILED, is_error=True)


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    command: str = "/brief"
    host: str = "0.0.0.0"  # HTTP mode: the address to listen on
    port: int = 3000
    path: str = HTTP_PATH  # HTTP mode: where Slack posts the slash command
    reply_in_channel: bool = False
    api_base: str | None = None  # the Web API base URL, for tests and proxies

    def __post_init__(self) -> None:
        if not self.bot_token:
            raise ValueError("Slack needs a bot token.")
        if not self.command.startswith("/") or len(self.command) < 2:
            raise ValueError(f"A Slack command starts with '/', not {self.command!r}.")
        if not (self.app_token or self.signing_secret):
            raise ValueError("Slack needs an app token (Socket Mode) or a signing secret (HTTP).")
        if not self.path.startswith("/"):
            raise ValueError(f"An HTTP path starts with '/', not {self.path!r}.")

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        """Settings from SLACK_* variables, or None when Slack is not configured.

        Other options (command, host, port, path, reply_in_channel) come from the YAML
        config through `dataclasses.replace`.
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


class _ShortRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 only when Slack's Retry-After is short; a longer one is left to
    the caller (the outbox reschedules a digest), instead of sleeping in the send."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        headers = response.headers.items()
        wait = next((v for k, v in headers if k.lower() == "retry-after"), ["1"])
        try:
            return float(wait[0]) <= RATE_LIMIT_WAIT_SECONDS
        except (TypeError, ValueError, IndexError):
            return True


def make_web_client(
    settings: SlackSettings, *, retry_connection_errors: bool = True
) -> AsyncWebClient:
    """The Web API client, retrying a 429 after a short Retry-After (slack-sdk won't by
    default). `retry_connection_errors=False` for posting digests: the SDK would post
    again after a dropped connection although Slack may have stored the message."""
    retry_handlers: list[AsyncRetryHandler] = [
        _ShortRateLimitRetry(max_retry_count=RATE_LIMIT_RETRIES)
    ]
    if retry_connection_errors:
        retry_handlers.insert(0, AsyncConnectionErrorRetryHandler())
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
    """Posts digests with chat.postMessage: the Sender for `slack:<channel id>` targets.

    A multi-message digest is posted in order, from the first part the outbox has no
    record of, each part marked with the digest's reference and its number. Its client
    should not retry dropped connections (see `make_web_client`): Slack may have stored
    the message, and the outbox asks the channel before posting that part again.
    """

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        messages = render_messages(reply, ref=progress.ref)
        for index in range(progress.done, len(messages)):
            try:
                await self._client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **messages[index]
                )
            except SlackApiError as error:
                raise _delivery_error(error) from error
            except (aiohttp.ClientError, TimeoutError) as error:
                raise _unreachable(error) from error
            progress.accepted(index + 1)

    async def delivered(self, channel: str, ref: str) -> Seen:
        """Which parts of the digest `ref` are among the channel's recent messages. Needs
        the `channels:history` scope (`groups:history` for private channels); without it
        we cannot tell, and answer Seen() so unrecorded parts are resent rather than lost."""
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
                return Seen()
            raise _delivery_error(error, "conversations.history") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise _unreachable(error) from error
        messages: list[Any] = response.get("messages", []) or []
        # Only messages an app posted: a person quoting a reference proves nothing.
        ours = (json.dumps(m, ensure_ascii=False) for m in messages if m.get("bot_id"))
        return seen_in(ours, ref)


def _unreachable(error: Exception) -> DeliveryError:
    # A refused connection never reached Slack; a dropped one or a timeout may have
    # posted the message before the answer was lost.
    return DeliveryError(
        f"Slack unreachable: {type(error).__name__}",
        retryable=True,
        maybe_sent=not isinstance(error, aiohttp.ClientConnectorError),
    )


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
    # A server-side failure may come after the message was stored.
    maybe_sent = response.status_code >= 500 or code in MAYBE_POSTED_ERRORS
    return DeliveryError(
        f"{method} failed: {code}",
        retryable=retryable,
        retry_after=retry_after,
        maybe_sent=maybe_sent,
    )


class SlackDisconnected(ConnectionError):
    """Slack ended the Socket Mode connection for good (it refused the app token)."""


class _SocketModeWebClient(AsyncWebClient):
    """The Web API client Socket Mode (re)connects with. The SDK retries a refused app
    token for ever, silently; this client also reports the refusal to the adapter."""

    def __init__(self, *, on_refused: Callable[[str], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_refused = on_refused

    async def apps_connections_open(self, *, app_token: str, **kwargs: Any) -> Any:
        try:
            return await super().apps_connections_open(app_token=app_token, **kwargs)
        except SlackApiError as error:
            code = _api_error_code(error)
            status = error.response.status_code
            if status not in RETRYABLE_CONNECT_STATUS and code not in RETRYABLE_ERRORS:
                self._on_refused(code)
            raise


def _api_error_code(error: SlackApiError) -> str:
    data = error.response.data if isinstance(error.response.data, dict) else {}
    return str(data.get("error", "")) or f"HTTP {error.response.status_code}"


class SlackAdapter:
    """Serves the slash command until closed. `start()` returns once Slack can reach us."""

    def __init__(self, settings: SlackSettings, dispatcher: Dispatcher[Any]) -> None:
        self.settings = settings
        self._dispatcher = dispatcher
        self.client = make_web_client(settings)
        self.sender = SlackSender(make_web_client(settings, retry_connection_errors=False))
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
        self._ended = asyncio.Event()  # set by close(), or when Slack refuses us for good
        self._end_reason: str | None = None

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
        """Connect (Socket Mode) or listen (HTTP); on failure, nothing is left running.
        May be called again after a failed start."""
        self._ended.clear()
        self._end_reason = None
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
            web_client = _SocketModeWebClient(
                on_refused=self._refused,
                token=self.settings.bot_token,
                base_url=self.client.base_url,
                retry_handlers=self.client.retry_handlers,
            )
            # Ask for the websocket URL ourselves: with a bad app token the SDK's connect()
            # would retry for ever, and start() should fail instead.
            opened = await web_client.apps_connections_open(app_token=app_token)
            self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=web_client)
            self._socket.client.wss_uri = opened["url"]
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
            logger.info("Slack: connected in Socket Mode, command %s", self.settings.command)
            return
        path = self.settings.path
        self._runner = web.AppRunner(self.app.web_app(path=path), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()
        logger.info("Slack: listening on %s port %s, path %s", self.settings.host, self.port, path)

    def _refused(self, code: str) -> None:
        logger.error("Slack refused to open a Socket Mode connection", extra={"error": code})
        self._end_reason = code
        self._ended.set()

    async def wait_closed(self) -> None:
        """Return once closed; raise SlackDisconnected if Slack refused to reconnect
        Socket Mode (a revoked app token). Network trouble is not the end: the SDK
        reconnects by itself. Returns at once if never started."""
        if self._socket is None and self._runner is None and not self._ended.is_set():
            return
        await self._ended.wait()
        if self._end_reason is not None:
            raise SlackDisconnected(
                f"Slack refused to reconnect Socket Mode ({self._end_reason}); "
                "check SLACK_APP_TOKEN"
            )

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
        self._ended.set()

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
        pages = render_messages(reply)
        # response_url takes five posts. A longer answer sends four there and the rest
        # through the Web API, keeping the fifth post to say so if the API refuses.
        direct = pages if len(pages) <= RESPONSE_URL_POSTS else pages[: RESPONSE_URL_POSTS - 1]
        for message in direct:
            await self._respond(respond, {**message, "response_type": response_type})
        refused = await self._post_rest(command, pages[len(direct) :], public=public)
        if refused is not None:
            unposted, error = refused
            notice = _rest_notice(first=len(pages) - unposted + 1, parts=len(pages), error=error)
            for message in render_messages(notice):
                await self._respond(respond, {**message, "response_type": "ephemeral"})

    async def _respond(self, respond: AsyncRespond, message: Message) -> None:
        try:
            response = await respond(message)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("Slack: response_url unreachable (%s)", type(error).__name__)
            return
        if response.status_code != 200:
            logger.warning("Slack: response_url answered HTTP %s", response.status_code)

    async def _post_rest(
        self, command: Mapping[str, Any], rest: list[Message], *, public: bool
    ) -> tuple[int, str] | None:
        """Post the messages beyond response_url's through the Web API, to the same
        audience. This needs the bot in the channel; if Slack refuses one, stop there and
        return how many are left unposted and why."""
        post: Callable[..., Coroutine[Any, Any, Any]] = (
            self.client.chat_postMessage if public else self.client.chat_postEphemeral
        )
        audience = {} if public else {"user": command.get("user_id")}
        for number, message in enumerate(rest):
            try:
                await post(channel=command.get("channel_id"), **audience, **message)
            except SlackApiError as error:
                reason = _api_error_code(error)
            except (aiohttp.ClientError, TimeoutError):
                reason = m.SLACK_UNREACHABLE
            else:
                continue
            logger.warning("Slack: could not post the rest of a long reply (%s)", reason)
            return len(rest) - number, reason
        return None


def _rest_notice(*, first: int, parts: int, error: str) -> Reply:
    how_to = m.SLACK_REST_HOW_TO.format(first=first, parts=parts, error=error)
    return Reply(title=m.SLACK_REST_NOT_POSTED, sections=(Section(text=how_to),), is_error=True)
