"""The Discord adapter: registry commands as slash commands, replies as embeds, digests.

discord.py's `app_commands` derive options from Python function signatures, while our
commands are data (`Registry` → `Param`). So the adapter builds the command payloads
itself, syncs them through discord.py's HTTP client, and routes INTERACTION_CREATE in
`on_interaction`. discord.py still does the rest: login, the gateway with resume and
reconnect, rate limits and retries, and the interaction responses.

Every command is deferred at once (callback type 5) and answered with follow-ups, so
Discord's 3-second deadline holds however long a handler takes; handlers run in a worker
thread because they query the database. Errors reach the user as a short ephemeral
message; the details go to the log. No message may mention anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.commands import Command, Dispatcher, Param, ParamKind, Registry
from bot.delivery import DeliveryError
from bot.render.discord import escape_text, render_messages
from bot.reply import Reply, reply_to_dict

_log = logging.getLogger(__name__)

COMMAND_FAILED = "Sorry, that command failed. The details are in the bot's log."

NO_MENTIONS = discord.AllowedMentions.none()
OPTION_STRING = 3
OPTION_INTEGER = 4
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100  # characters in a choice's name and in its value
DESCRIPTION_LIMIT = 100  # characters in a command's or an option's description
HISTORY_LOOKBACK = 100  # messages searched for an unconfirmed digest: one request
_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")  # a subset of what Discord allows, all we need


@dataclass(frozen=True)
class DiscordSettings:
    token: str = field(repr=False)
    guild_id: int | None = None  # sync commands to this guild only (instant) instead of globally
    api_base: str | None = None  # e.g. "http://127.0.0.1:8080/api/v10", for a fake Discord
    gateway_url: str | None = None  # e.g. "ws://127.0.0.1:8080/gateway"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DiscordSettings | None:
        """From DISCORD_TOKEN, DISCORD_GUILD_ID, DISCORD_API_BASE, DISCORD_GATEWAY_URL.

        None when there is no token: Discord is simply not configured.
        """
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            return None
        guild = env.get("DISCORD_GUILD_ID", "").strip()
        if guild and not guild.isdigit():
            raise ValueError(f"DISCORD_GUILD_ID must be a numeric guild id, not {guild!r}.")
        return cls(
            token=token,
            guild_id=int(guild) if guild else None,
            api_base=env.get("DISCORD_API_BASE", "").strip().rstrip("/") or None,
            gateway_url=env.get("DISCORD_GATEWAY_URL", "").strip() or None,
        )


def command_payloads(registry: Registry[Any]) -> list[dict[str, Any]]:
    """The slash commands for a registry, as Discord's bulk-overwrite endpoint takes them."""
    return [_command_payload(command) for command in registry.commands]


def _command_payload(command: Command[Any]) -> dict[str, Any]:
    # Discord wants required options before optional ones; the handlers bind by name.
    params = sorted(command.params, key=lambda p: not p.required)
    payload: dict[str, Any] = {
        "name": _checked_name(command.name),
        "description": _description(command.description, command.name),
        "type": 1,  # CHAT_INPUT: a slash command
    }
    if params:
        payload["options"] = [_option_payload(p) for p in params]
    return payload


def _option_payload(param: Param) -> dict[str, Any]:
    option: dict[str, Any] = {
        "type": OPTION_INTEGER if param.kind is ParamKind.INT else OPTION_STRING,
        "name": _checked_name(param.name),
        "description": _description(param.description, param.name),
        "required": param.required,
    }
    if param.kind is ParamKind.INT:
        if param.min_value is not None:
            option["min_value"] = param.min_value
        if param.max_value is not None:
            option["max_value"] = param.max_value
    if param.completion is not None:
        option["autocomplete"] = True
    return option


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} cannot be a Discord command or option name.")
    return name


def _description(text: str, name: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValueError(f"{name!r} needs a description for Discord.")
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _comparable(commands: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The fields we set, with Discord's defaults filled in, in a stable order.

    Discord answers with ids, versions and defaults of its own, and leaves out false
    flags, so the raw lists never compare equal.
    """
    keys = ("min_value", "max_value")
    normal = [
        {
            "name": c["name"],
            "description": c.get("description", ""),
            "type": c.get("type", 1),
            "options": [
                {
                    "type": o["type"],
                    "name": o["name"],
                    "description": o.get("description", ""),
                    "required": bool(o.get("required", False)),
                    "autocomplete": bool(o.get("autocomplete", False)),
                    **{k: o.get(k) for k in keys},
                }
                for o in c.get("options") or ()
            ],
        }
        for c in commands
    ]
    return sorted(normal, key=lambda c: str(c["name"]))


class _Client(discord.Client):
    """A plain client: interactions and REST need no privileged intents."""

    def __init__(self, on_interaction: Callable[[discord.Interaction], Awaitable[None]]) -> None:
        # Ready at READY: no command needs the guild list that streams in after it.
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=0.0,
        )
        self._handle_interaction = on_interaction

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self._handle_interaction(interaction)


class DiscordAdapter:
    """Serves the dispatcher's commands on Discord, and is the "discord" digest Sender.

    One per process: it points discord.py's own endpoint settings at `settings`.
    """

    platform = "discord"

    def __init__(self, settings: DiscordSettings, dispatcher: Dispatcher[Any]) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._client: _Client | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._saved_endpoints: tuple[str, yarl.URL] | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Log in, sync the commands if they changed, connect; return once READY.

        The gateway then runs in a background task, resuming or reconnecting by itself,
        until `close()`. Raises if login fails or the gateway stops before READY; wrap
        in `asyncio.wait_for` for a deadline.
        """
        if self._client is not None:
            raise RuntimeError("The Discord adapter is already started.")
        self._point_discord_py_at_settings()
        client = self._client = _Client(self._on_interaction)
        try:
            await client.login(self._settings.token)
            await self._sync_commands(client)
            self._gateway = asyncio.create_task(client.connect(reconnect=True), name="discord")
            await _until_ready(client, self._gateway)
        except BaseException:
            await self.close()
            raise
        _log.info("Discord: connected as %s", client.user)

    async def wait_closed(self) -> None:
        """Return when the gateway stops for good; raise what stopped it, if anything did."""
        if self._gateway is not None:
            await asyncio.shield(self._gateway)

    async def close(self) -> None:
        """Cancel in-flight interactions, disconnect, and restore discord.py's endpoints."""
        client, self._client = self._client, None
        gateway, self._gateway = self._gateway, None
        in_flight = [task for task in self._in_flight if task is not asyncio.current_task()]
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        if client is not None:
            await client.close()
        if gateway is not None:
            try:
                await gateway
            except Exception:
                _log.warning("Discord: the gateway had stopped with an error", exc_info=True)
        self._restore_discord_py_endpoints()

    # The Sender protocol

    async def send(self, channel: str, reply: Reply) -> None:
        """Post `reply` to a channel id, in as many messages as it needs; once, or raise.

        Uses REST only, so it works whenever the client is logged in, even while the
        gateway reconnects. discord.py has already retried 429s and some 5xx when this
        raises.
        """
        _, target = self._channel(channel)
        for page, message in enumerate(render_messages(reply)):
            try:
                await target.send(
                    embeds=list(message.embeds),
                    allowed_mentions=NO_MENTIONS,
                    nonce=_nonce(channel, reply, page),
                )
            except discord.RateLimited as error:
                raise DeliveryError(
                    "Discord rate limit.", retryable=True, retry_after=error.retry_after
                ) from error
            except discord.HTTPException as error:
                raise _delivery_error(error) from error
            except (aiohttp.ClientError, OSError) as error:  # OSError includes timeouts
                raise DeliveryError(f"Discord unreachable: {error!r}", retryable=True) from error

    async def already_delivered(self, channel: str, marker: str) -> bool:
        """Whether one of our recent messages in the channel carries `marker`.

        Looks through the last HISTORY_LOOKBACK messages. Without permission to read the
        channel's history it cannot look, and answers False.
        """
        me, target = self._channel(channel)
        wanted = {marker, escape_text(marker)}  # a long footnote is shown escaped, as text
        try:
            async for message in target.history(limit=HISTORY_LOOKBACK):
                if message.author.id == me and any(
                    w in text for text in _texts(message) for w in wanted
                ):
                    return True
        except (discord.Forbidden, discord.NotFound):
            _log.warning("Discord: cannot read channel %s to look for %r", channel, marker)
            return False
        except discord.HTTPException as error:
            raise _delivery_error(error) from error
        except (aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"Discord unreachable: {error!r}", retryable=True) from error
        return False

    def _channel(self, channel: str) -> tuple[int, discord.PartialMessageable]:
        """Our user id, and the channel to post to; DeliveryError when neither can be had."""
        client = self._client
        if client is None or client.is_closed() or client.user is None:
            raise DeliveryError("Discord is not logged in.", retryable=True)
        if not (channel.isascii() and channel.isdigit()):
            raise DeliveryError(f"{channel!r} is not a Discord channel id.", retryable=False)
        return client.user.id, client.get_partial_messageable(int(channel))

    # Start-up

    def _point_discord_py_at_settings(self) -> None:
        # discord.py builds every REST call (webhooks and interactions included) from
        # Route.BASE and opens a plain Client's gateway at DEFAULT_GATEWAY; these class
        # attributes are its only endpoint settings. Tests point them at a loopback fake.
        self._saved_endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if self._settings.api_base:
            Route.BASE = self._settings.api_base
        if self._settings.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._settings.gateway_url)

    def _restore_discord_py_endpoints(self) -> None:
        if self._saved_endpoints is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved_endpoints
            self._saved_endpoints = None

    async def _sync_commands(self, client: _Client) -> None:
        """Overwrite the registered commands, but only when they differ from ours."""
        app_id, guild_id = client.application_id, self._settings.guild_id
        assert app_id is not None, "login sets the application id"
        wanted = command_payloads(self._dispatcher.registry)
        if guild_id is not None:
            current = await client.http.get_guild_commands(app_id, guild_id)
        else:
            current = await client.http.get_global_commands(app_id)
        scope = f"guild {guild_id}" if guild_id is not None else "global"
        if _comparable(current) == _comparable(wanted):
            _log.info("Discord: %d %s commands unchanged", len(wanted), scope)
            return
        if guild_id is not None:
            await client.http.bulk_upsert_guild_commands(app_id, guild_id, wanted)
        else:
            await client.http.bulk_upsert_global_commands(app_id, wanted)
        _log.info("Discord: synced %d %s commands", len(wanted), scope)

    # Interactions

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            if interaction.type is discord.InteractionType.application_command:
                await self._run_command(interaction)
            elif interaction.type is discord.InteractionType.autocomplete:
                await self._complete(interaction)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _run_command(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        name = str(data.get("name", ""))
        raw = {str(o["name"]): str(o["value"]) for o in data.get("options", ()) if "value" in o}
        try:
            await interaction.response.defer()  # type 5, before any slow work
        except discord.HTTPException:
            _log.warning("Discord: could not defer /%s (%s)", name, interaction.id, exc_info=True)
            return
        try:
            reply = await asyncio.to_thread(self._dispatcher.run, name, raw)
        except Exception:
            _log.exception(
                "Discord: /%s failed (interaction %s, options %r)", name, interaction.id, raw
            )
            reply = Reply(title=COMMAND_FAILED, is_error=True)
        if reply.is_error:
            # The first follow-up after a defer takes the defer's visibility; remove the
            # public "thinking…" message so that the error can be ephemeral.
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                _log.warning("Discord: could not remove the deferral of /%s", name, exc_info=True)
        try:
            for message in render_messages(reply):
                await interaction.followup.send(
                    embeds=list(message.embeds),
                    allowed_mentions=NO_MENTIONS,
                    ephemeral=reply.is_error,
                    wait=True,
                )
        except discord.HTTPException:
            _log.exception("Discord: could not answer /%s (%s)", name, interaction.id)

    async def _complete(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        name = str(data.get("name", ""))
        focused = next((o for o in data.get("options", ()) if o.get("focused")), None)
        values: list[str] = []
        if focused is not None:
            param, prefix = str(focused["name"]), str(focused.get("value", ""))
            try:
                values = await asyncio.to_thread(self._dispatcher.complete, name, param, prefix)
            except Exception:
                _log.exception("Discord: completing /%s %s failed", name, param)
        try:
            await interaction.response.autocomplete(_choices(values))
        except discord.HTTPException:
            _log.warning(
                "Discord: could not complete /%s (%s)", name, interaction.id, exc_info=True
            )


async def _until_ready(client: discord.Client, gateway: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        await asyncio.wait({ready, gateway}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
    if gateway.done():
        gateway.result()  # raises what stopped it
        raise ConnectionError("The Discord gateway closed before READY.")


def _choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """At most 25 distinct suggestions; one longer than Discord allows cannot be sent back
    whole as the option's value, so it is left out rather than cut."""
    unique = dict.fromkeys(v for v in values if 0 < len(v) <= CHOICE_LIMIT)
    return [app_commands.Choice(name=v, value=v) for v in list(unique)[:CHOICES_LIMIT]]


def _texts(message: discord.Message) -> list[str]:
    texts = [message.content]
    for embed in message.embeds:
        texts += [embed.footer.text or "", embed.description or "", embed.title or ""]
    return texts


def _nonce(channel: str, reply: Reply, page: int) -> str:
    # discord.py sends `enforce_nonce`, so Discord drops a repeat of a nonce it saw from
    # us in the last few minutes: a retry after a lost response does not post twice.
    key = json.dumps([channel, reply_to_dict(reply), page], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:25]  # Discord's limit is 25 characters


def _delivery_error(error: discord.HTTPException) -> DeliveryError:
    retry_after = None
    with contextlib.suppress(TypeError, ValueError):
        retry_after = float(error.response.headers.get("Retry-After", ""))
    return DeliveryError(
        f"Discord answered {error.status}: {error.text}",
        retryable=error.status in (408, 429) or error.status >= 500,
        retry_after=retry_after,
    )
