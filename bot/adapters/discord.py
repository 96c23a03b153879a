"""The Discord adapter: registry commands as slash commands, replies as embeds, digests.

discord.py's `app_commands` derive options from Python function signatures, while our
commands are data (`Registry` → `Param`). So the adapter builds the command payloads
itself, syncs them through discord.py's HTTP client, and routes INTERACTION_CREATE in
`on_interaction`. discord.py still does the rest: login, the gateway with resume and
reconnect, rate limits and retries, and the interaction responses.

A command whose options are wrong is answered at once, privately. Any other is deferred
at once (callback type 5), so Discord's 3-second deadline holds however long a handler
takes; handlers run in a worker thread because they query the database. Errors reach
the user as a short ephemeral message; the details go to the log. No message may
mention anyone.
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

from bot import messages as m
from bot.commands import Command, CommandError, Dispatcher, Param, ParamKind, Registry, Suggestion
from bot.delivery import DeliveryError, Progress, Seen, seen_in
from bot.render.discord import DiscordMessage, escape_text, render_messages, units
from bot.reply import Reply

_log = logging.getLogger(__name__)

FAILED_REPLY = Reply(title=m.COMMAND_FAILED, is_error=True)

NO_MENTIONS = discord.AllowedMentions.none()
OPTION_STRING = 3
OPTION_INTEGER = 4
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100  # characters in a choice's name and in its value
DESCRIPTION_LIMIT = 100  # characters in a command's or an option's description
HISTORY_LOOKBACK = 100  # messages searched for an unconfirmed digest: one request
RATE_LIMIT_WAIT_SECONDS = 30.0  # discord.py's smallest max_ratelimit_timeout
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


# Set by Discord, never by us.
_SERVER_FIELDS = frozenset({"id", "application_id", "version", "guild_id"})
# What Discord assumes for a field left out, and often leaves out when it holds that.
_COMMAND_DEFAULTS: Mapping[str, Any] = {
    "type": 1,
    "options": [],
    "default_member_permissions": None,
    "dm_permission": True,
    "default_permission": True,
    "nsfw": False,
    "name_localizations": None,
    "description_localizations": None,
}
_OPTION_DEFAULTS: Mapping[str, Any] = {
    "required": False,
    "autocomplete": False,
    "choices": [],
    "options": [],
    "name_localizations": None,
    "description_localizations": None,
}
# Filled in from the application's settings when a command leaves them out, so compared
# only once we send them.
_FILLED_IN = frozenset({"contexts", "integration_types"})


def commands_differ(
    registered: Iterable[Mapping[str, Any]], wanted: Iterable[Mapping[str, Any]]
) -> bool:
    """Whether the commands Discord has differ from the payloads we would PUT.

    Every field of ours is compared, so one we start sending (choices, min_length,
    contexts, default_member_permissions, …) triggers a sync, and so does one Discord holds
    that we would reset. Only what Discord adds of its own is left out: ids, versions, and
    the defaults it fills in or leaves out.
    """
    ours = {str(c["name"]): _normal(c, _COMMAND_DEFAULTS) for c in wanted}
    theirs = [_normal(c, _COMMAND_DEFAULTS) for c in registered]
    if len(theirs) != len(ours) or {str(c.get("name")) for c in theirs} != ours.keys():
        return True
    for command in theirs:
        mine = ours[str(command.get("name"))]
        kept = {k: v for k, v in command.items() if k not in _FILLED_IN or k in mine}
        if kept != mine:
            return True
    return False


def _normal(payload: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    normal: dict[str, Any] = {}
    for key, value in payload.items():
        if key in _SERVER_FIELDS:
            continue
        if key == "options":
            value = [_normal(option, _OPTION_DEFAULTS) for option in value or ()]
        if key not in defaults or value != defaults[key]:
            normal[key] = value
    return normal


class _Client(discord.Client):
    """A plain client: interactions and REST need no privileged intents."""

    def __init__(self, on_interaction: Callable[[discord.Interaction], Awaitable[None]]) -> None:
        # Ready at READY: no command needs the guild list that streams in after it.
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=0.0,
            # A longer rate-limit wait raises RateLimited instead of sleeping inside a
            # digest's send (holding up every other target); the outbox reschedules it.
            max_ratelimit_timeout=RATE_LIMIT_WAIT_SECONDS,
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

    async def send(self, channel: str, reply: Reply, progress: Progress) -> None:
        """Post the digest's parts after `progress.done` to a channel id, in order, each
        marked with the digest's reference and its number; or raise DeliveryError.

        Uses REST only, so it works whenever the client is logged in, even while the
        gateway reconnects. discord.py has already retried short 429s and some 5xx when
        this raises.
        """
        _, target = self._channel(channel)
        messages = render_messages(reply, ref=progress.ref)
        for index in range(progress.done, len(messages)):
            try:
                await target.send(
                    embeds=list(messages[index].embeds),
                    allowed_mentions=NO_MENTIONS,
                    nonce=_nonce(channel, progress.ref, index, len(messages)),
                )
            except discord.RateLimited as error:
                raise DeliveryError(
                    "Discord rate limit.", retryable=True, retry_after=error.retry_after
                ) from error
            except discord.HTTPException as error:
                raise _delivery_error(error) from error
            except (aiohttp.ClientError, OSError) as error:  # OSError includes timeouts
                raise _unreachable(error) from error
            progress.accepted(index + 1)

    async def delivered(self, channel: str, ref: str) -> Seen:
        """Which parts of the digest `ref` are among our recent messages in the channel.

        Looks through the last HISTORY_LOOKBACK messages. Without permission to read the
        channel's history it cannot look, and answers Seen().
        """
        me, target = self._channel(channel)
        texts: list[str] = []
        try:
            async for message in target.history(limit=HISTORY_LOOKBACK):
                if message.author.id == me:
                    texts += _texts(message)
        except (discord.Forbidden, discord.NotFound):
            _log.warning("Discord: cannot read channel %s to look for %r", channel, ref)
            return Seen()
        except discord.HTTPException as error:
            raise _delivery_error(error) from error
        except (aiohttp.ClientError, OSError) as error:
            raise _unreachable(error) from error
        # A long footnote is shown escaped, as text.
        return max(seen_in(texts, ref), seen_in(texts, escape_text(ref)), key=_progress)

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
        if not commands_differ(current, wanted):
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
        mistake = self._mistake(name, raw)
        if mistake is not None:
            await _answer_at_once(interaction, name, mistake)
            return
        try:
            await interaction.response.defer()  # type 5, public, before any slow work
        except Exception:
            _log.warning("Discord: could not defer /%s (%s)", name, interaction.id, exc_info=True)
            return
        try:
            reply = await asyncio.to_thread(self._dispatcher.run, name, raw)
        except Exception:
            _log.exception(
                "Discord: /%s failed (interaction %s, options %r)", name, interaction.id, raw
            )
            reply = FAILED_REPLY
        await _DeferredAnswer(interaction, name).give(reply)

    def _mistake(self, name: str, raw: Mapping[str, str]) -> Reply | None:
        """A mistake in the options, found without the archive, so before any deferral."""
        registry = self._dispatcher.registry
        command = registry.get(name)
        if command is None:
            return None  # the dispatcher answers with the help
        try:
            registry.bind(command, raw)
        except CommandError as error:
            return Reply(title=str(error), is_error=True)
        except Exception:
            return None  # not the user's mistake: the deferred run reports it
        return None

    async def _complete(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        name = str(data.get("name", ""))
        focused = next((o for o in data.get("options", ()) if o.get("focused")), None)
        suggestions: list[Suggestion] = []
        if focused is not None:
            param, prefix = str(focused["name"]), str(focused.get("value", ""))
            try:
                suggestions = await asyncio.to_thread(
                    self._dispatcher.complete, name, param, prefix
                )
            except Exception:
                _log.exception("Discord: completing /%s %s failed", name, param)
        try:
            await interaction.response.autocomplete(_choices(suggestions))
        except Exception:  # HTTP or network: the user just sees no suggestions
            _log.warning(
                "Discord: could not complete /%s (%s)", name, interaction.id, exc_info=True
            )


async def _answer_at_once(interaction: discord.Interaction, name: str, reply: Reply) -> None:
    """Answer privately with the first response itself (type 4, ephemeral): nothing public."""
    try:
        first, *rest = render_messages(reply)
        await interaction.response.send_message(
            embeds=list(first.embeds), ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        for message in rest:  # follow-ups after a type 4 response keep their own flags
            await _follow_up(interaction, message, ephemeral=True)
    except Exception:
        _log.exception("Discord: could not answer /%s (%s)", name, interaction.id)


class _DeferredAnswer:
    """The answer to a deferred command, sent the way Discord's docs prescribe.

    After a public deferral the "thinking…" message is the original response, and it
    stays public: Discord keeps a message's visibility, and its first follow-up POST
    merely edits it, ignoring the ephemeral flag (a deprecated behaviour; the docs advise
    editing the original instead, as here). So the answer's first message replaces the
    deferral and the rest are follow-ups. An error cannot go there privately: it replaces
    the deferral with a short note, goes out as ephemeral follow-ups, then the note,
    now a real message, is deleted. Nothing that fails here escapes; the user is told.
    """

    def __init__(self, interaction: discord.Interaction, name: str) -> None:
        self._interaction = interaction
        self._name = name
        self._original_sent = False  # the deferral has been replaced
        self._note_shown = False  # ... by the public note, still to be deleted

    async def give(self, reply: Reply) -> None:
        try:
            await self._send(reply)
            return
        except Exception:  # HTTP, network and rendering errors alike
            _log.exception("Discord: could not answer /%s (%s)", self._name, self._interaction.id)
        try:
            await self._send_privately(render_messages(FAILED_REPLY))
        except Exception:
            _log.exception("Discord: could not report the failure of /%s", self._name)

    async def _send(self, reply: Reply) -> None:
        messages = render_messages(reply)
        if reply.is_error:
            await self._send_privately(messages)
            return
        for message in messages:
            if self._original_sent:
                await _follow_up(self._interaction, message, ephemeral=False)
            else:
                await self._edit_original(message)

    async def _send_privately(self, messages: list[DiscordMessage]) -> None:
        if not self._original_sent:
            [note] = render_messages(Reply(title=m.ANSWERED_PRIVATELY))
            await self._edit_original(note)
            self._note_shown = True
        for message in messages:
            await _follow_up(self._interaction, message, ephemeral=True)
        if self._note_shown:
            try:
                await self._interaction.delete_original_response()
                self._note_shown = False
            except Exception:
                _log.warning("Discord: could not delete the note of /%s", self._name, exc_info=True)

    async def _edit_original(self, message: DiscordMessage) -> None:
        await self._interaction.edit_original_response(
            embeds=list(message.embeds), allowed_mentions=NO_MENTIONS
        )
        self._original_sent = True


async def _follow_up(
    interaction: discord.Interaction, message: DiscordMessage, *, ephemeral: bool
) -> None:
    await interaction.followup.send(
        embeds=list(message.embeds), allowed_mentions=NO_MENTIONS, ephemeral=ephemeral, wait=True
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


def _choices(suggestions: Iterable[Suggestion]) -> list[app_commands.Choice[str]]:
    """At most 25 distinct suggestions. A long label is shown shortened; the value must come
    back whole, so a suggestion whose value is longer than Discord allows is left out."""
    unique: dict[str, str] = {}
    for suggestion in suggestions:
        label = " ".join(suggestion.label.split())
        if label and 0 < units(suggestion.value) <= CHOICE_LIMIT:
            unique.setdefault(suggestion.value, _shortened(label))
    chosen = list(unique.items())[:CHOICES_LIMIT]
    return [app_commands.Choice(name=name, value=value) for value, name in chosen]


def _shortened(label: str) -> str:
    if units(label) <= CHOICE_LIMIT:
        return label
    cut = label[: CHOICE_LIMIT - 1]
    while units(cut) > CHOICE_LIMIT - 1:  # characters outside the BMP count twice
        cut = cut[:-1]
    return cut.rstrip() + "…"


def _texts(message: discord.Message) -> list[str]:
    texts = [message.content]
    for embed in message.embeds:
        texts += [embed.footer.text or "", embed.description or "", embed.title or ""]
    return texts


def _nonce(channel: str, ref: str, index: int, parts: int) -> str:
    # discord.py sends `enforce_nonce`, so Discord drops a repeat of a nonce it saw from
    # us in the last few minutes: discord.py's own quick retry after a lost response does
    # not post twice. Later retries rely on the outbox's record and the channel's history.
    key = json.dumps([channel, ref, index, parts])
    return hashlib.sha256(key.encode()).hexdigest()[:25]  # Discord's limit is 25 characters


def _progress(seen: Seen) -> tuple[int, int]:
    return (seen.parts, seen.total)


def _unreachable(error: Exception) -> DeliveryError:
    # A refused connection never reached Discord; a dropped one or a timeout may have
    # delivered the message before the answer was lost.
    return DeliveryError(
        f"Discord unreachable: {error!r}",
        retryable=True,
        maybe_sent=not isinstance(error, aiohttp.ClientConnectorError),
    )


def _delivery_error(error: discord.HTTPException) -> DeliveryError:
    retry_after = None
    with contextlib.suppress(TypeError, ValueError):
        retry_after = float(error.response.headers.get("Retry-After", ""))
    return DeliveryError(
        f"Discord answered {error.status}: {error.text}",
        retryable=error.status in (408, 429) or error.status >= 500,
        retry_after=retry_after,
        # A server error may come after the message was stored.
        maybe_sent=error.status >= 500,
    )
