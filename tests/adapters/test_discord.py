"""The Discord adapter with the real discord.py client, against a loopback fake Discord."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord import COMMAND_FAILED, DiscordAdapter, DiscordSettings
from bot.commands import Command, Completion, Dispatcher, Param, ParamKind, Registry
from bot.delivery import DeliveryError, Sender
from bot.render.discord import (
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    render_messages,
)
from bot.reply import Item, Link, Reply, Section
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord, RecordedRequest

GUILD = 300
CHANNEL = "555"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
SPEAKERS = [f"Speaker {n:02d}" for n in range(40)] + ["D" * 101]


@dataclass
class Archive:
    """What the test handlers read: a stand-in for the database, with knobs."""

    quotes: tuple[Item, ...] = (
        Item(
            text="We are ready to restore relations.",
            detail="Dmitry Peskov · first seen 2016-11-10",
            links=(Link("RT", "https://www.rt.com/news/1"), Link("TASS")),
            quoted=True,
        ),
    )
    release: threading.Event = field(default_factory=threading.Event)
    handler_threads: list[int] = field(default_factory=list)
    error: Exception | None = None

    def __post_init__(self) -> None:
        self.release.set()


def quotes_handler(archive: Archive, args: Mapping[str, object]) -> Reply:
    archive.handler_threads.append(threading.get_ident())
    archive.release.wait(timeout=5)
    if archive.error is not None:
        raise archive.error
    return Reply(title=f"Quotes by {args['speaker']}", sections=(Section(items=archive.quotes),))


def simple_handler(title: str) -> Callable[[Archive, Mapping[str, object]], Reply]:
    return lambda archive, args: Reply(title=f"{title} {dict(args)}")


def complete(archive: Archive, kind: Completion, prefix: str) -> list[str]:
    names = SPEAKERS if kind is Completion.SPEAKERS else ["Document A", "Document B"]
    return [n for n in names if n.lower().startswith(prefix.lower())]


def registry(*, quotes_description: str = "Quotes by a speaker") -> Registry[Archive]:
    """The shape of the real registry, with small handlers."""
    date = ParamKind.DATE
    commands: tuple[Command[Archive], ...] = (
        Command(
            "quotes",
            quotes_description,
            quotes_handler,
            (
                Param("speaker", "Who said it", required=True, completion=Completion.SPEAKERS),
                Param("since", "From this date on (YYYY-MM-DD)", kind=date),
                Param("topic", "Only quotes about this"),
            ),
        ),
        Command(
            "overlaps",
            "Quotes repeated across outlets",
            simple_handler("overlaps"),
            (
                Param(
                    "min_outlets",
                    "At least this many outlets",
                    kind=ParamKind.INT,
                    min_value=2,
                    max_value=50,
                ),
            ),
        ),
        Command(
            "summary",
            "Summary of a document",
            simple_handler("summary"),
            (Param("document", "Which document", required=True, completion=Completion.DOCUMENTS),),
        ),
        Command(
            "search",
            "Search quotes",
            simple_handler("search"),
            (Param("text", "Words to find", required=True),),
        ),
        Command("sources", "The documents read", simple_handler("sources")),
        Command("speakers", "Who is quoted", simple_handler("speakers")),
        Command(
            "digest",
            "The digest",
            simple_handler("digest"),
            (Param("since", "From (YYYY-MM-DD)", kind=date),),
        ),
        Command("help", "What I can do", simple_handler("help")),
    )
    return Registry(commands=commands)


def dispatcher(archive: Archive, reg: Registry[Archive] | None = None) -> Dispatcher[Archive]:
    return Dispatcher(registry=reg or registry(), context=lambda: archive, completer=complete)


def settings(fake: FakeDiscord, *, guild_id: int | None = GUILD) -> DiscordSettings:
    return DiscordSettings(
        token=fake.token, guild_id=guild_id, api_base=fake.api_base, gateway_url=fake.gateway_url
    )


@pytest.fixture(autouse=True)
async def no_tasks_left_behind() -> AsyncIterator[None]:
    """Set up first, so torn down last: after the adapter and the fake have closed."""
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert left == []


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def archive() -> Archive:
    return Archive()


@pytest.fixture
async def bot(fake: FakeDiscord, archive: Archive) -> AsyncIterator[DiscordAdapter]:
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    try:
        yield adapter
    finally:
        await asyncio.wait_for(adapter.close(), 10)


async def run_command(
    fake: FakeDiscord, interaction: dict[str, Any], *, follow_ups: int = 1
) -> list[RecordedRequest]:
    """Send INTERACTION_CREATE; return the follow-up requests once `follow_ups` arrived."""
    await fake.dispatch("INTERACTION_CREATE", interaction)
    path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    await fake.wait_for(lambda: len(fake.calls("POST", path)) >= follow_ups)
    return fake.calls("POST", path)


def callbacks(fake: FakeDiscord, interaction: dict[str, Any]) -> list[Any]:
    return [
        r.json
        for r in fake.calls(
            "POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback"
        )
    ]


def embed_units(embed: Mapping[str, Any]) -> int:
    return (
        sum(len(embed.get(key, "").encode("utf-16-le")) // 2 for key in ("title", "description"))
        + len(embed.get("footer", {}).get("text", "").encode("utf-16-le")) // 2
    )


# Login and command sync


EXPECTED_QUOTES = {
    "name": "quotes",
    "description": "Quotes by a speaker",
    "type": 1,
    "options": [
        {
            "type": 3,
            "name": "speaker",
            "description": "Who said it",
            "required": True,
            "autocomplete": True,
        },
        {
            "type": 3,
            "name": "since",
            "description": "From this date on (YYYY-MM-DD)",
            "required": False,
        },
        {"type": 3, "name": "topic", "description": "Only quotes about this", "required": False},
    ],
}
EXPECTED_OVERLAPS = {
    "name": "overlaps",
    "description": "Quotes repeated across outlets",
    "type": 1,
    "options": [
        {
            "type": 4,
            "name": "min_outlets",
            "description": "At least this many outlets",
            "required": False,
            "min_value": 2,
            "max_value": 50,
        }
    ],
}


async def test_start_logs_in_and_registers_the_registry_as_guild_commands(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    guild_commands = f"/applications/{fake.application_id}/guilds/{GUILD}/commands"
    assert [(r.method, r.path) for r in fake.requests[:4]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("GET", guild_commands),
        ("PUT", guild_commands),
    ]
    assert all(r.authorization == f"Bot {fake.token}" for r in fake.requests[:4])
    [put] = fake.calls("PUT", "/applications/*")
    by_name = {c["name"]: c for c in put.json}
    assert list(by_name) == [
        "quotes",
        "overlaps",
        "summary",
        "search",
        "sources",
        "speakers",
        "digest",
        "help",
    ]
    assert by_name["quotes"] == EXPECTED_QUOTES
    assert by_name["overlaps"] == EXPECTED_OVERLAPS
    assert by_name["summary"]["options"] == [
        {
            "type": 3,
            "name": "document",
            "description": "Which document",
            "required": True,
            "autocomplete": True,
        }
    ]
    assert by_name["digest"]["options"] == [
        {"type": 3, "name": "since", "description": "From (YYYY-MM-DD)", "required": False}
    ]
    assert "options" not in by_name["sources"] and "options" not in by_name["help"]
    assert [f["op"] for f in fake.gateway_frames[:2]] == [1, 2]  # heartbeat, IDENTIFY
    assert fake.gateway_events == ["READY"]


async def test_a_restart_with_unchanged_commands_does_not_sync_again(
    fake: FakeDiscord, archive: Archive
) -> None:
    for _ in range(2):
        adapter = DiscordAdapter(settings(fake), dispatcher(archive))
        await asyncio.wait_for(adapter.start(), 10)
        await adapter.close()
    assert len(fake.calls("GET", "/applications/*/guilds/*/commands")) == 2
    assert len(fake.calls("PUT", "/applications/*")) == 1

    changed = dispatcher(archive, registry(quotes_description="Who said what"))
    adapter = DiscordAdapter(settings(fake), changed)
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()
    puts = fake.calls("PUT", "/applications/*")
    assert len(puts) == 2
    assert puts[-1].json[0]["description"] == "Who said what"


async def test_without_a_guild_commands_are_synced_globally(
    fake: FakeDiscord, archive: Archive
) -> None:
    adapter = DiscordAdapter(settings(fake, guild_id=None), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()
    [put] = fake.calls("PUT", "/applications/*")
    assert put.path == f"/applications/{fake.application_id}/commands"
    assert fake.calls("GET", "/applications/*/guilds/*") == []


async def test_close_restores_discord_py_endpoints(fake: FakeDiscord, archive: Archive) -> None:
    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    assert fake.api_base == Route.BASE
    await adapter.close()
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_a_wrong_token_fails_start_and_leaves_nothing_behind(
    fake: FakeDiscord, archive: Archive
) -> None:
    before = Route.BASE
    wrong = DiscordSettings(
        token="not-the-token", api_base=fake.api_base, gateway_url=fake.gateway_url
    )
    adapter = DiscordAdapter(wrong, dispatcher(archive))
    with pytest.raises(discord.LoginFailure):
        await adapter.start()
    assert before == Route.BASE
    assert fake.calls("PUT", "/applications/*") == []
    with pytest.raises(DeliveryError) as raised:
        await adapter.send(CHANNEL, Reply(title="digest"))
    assert raised.value.retryable


# Slash commands


async def test_a_command_is_deferred_before_its_handler_finishes_then_followed_up(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.release.clear()  # the handler waits, like a slow query on a large archive
    interaction = fake.slash_command("quotes", {"speaker": "Peskov", "since": "2016-11-01"})
    await fake.dispatch("INTERACTION_CREATE", interaction)

    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)
    assert callbacks(fake, interaction) == [{"type": 5}]
    assert fake.followups == []
    archive.release.set()
    path = f"/webhooks/{fake.application_id}/{interaction['token']}"
    await fake.wait_for(lambda: len(fake.calls("POST", path)) == 1)

    [request] = fake.calls("POST", path)
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert "flags" not in request.json or request.json["flags"] == 0
    [embed] = request.json["embeds"]
    assert embed["title"] == "Quotes by Peskov"
    assert embed["description"] == (
        "> We are ready to restore relations.\n"
        "— Dmitry Peskov · first seen 2016-11-10 · [RT](https://www.rt.com/news/1) · TASS"
    )
    assert archive.handler_threads and threading.get_ident() not in archive.handler_threads


async def test_options_reach_the_handler_as_typed_values(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    interaction = fake.slash_command("overlaps", {"min_outlets": 3})
    [request] = await run_command(fake, interaction)
    assert request.json["embeds"][0]["title"] == "overlaps {'min\\_outlets': 3}"


async def test_a_user_mistake_is_answered_ephemerally(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": "Peskov", "since": "yesterday"})
    [request] = await run_command(fake, interaction)

    assert callbacks(fake, interaction) == [{"type": 5}]
    # The public "thinking…" message goes first, or the follow-up could not be ephemeral.
    original = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/@original"
    assert len(fake.calls("DELETE", original)) == 1
    assert request.json["flags"] == EPHEMERAL
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert "must be a date" in request.json["embeds"][0]["title"]


async def test_a_handler_error_is_a_short_ephemeral_message_and_logged_without_the_token(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    archive.error = RuntimeError("database is on fire")
    interaction = fake.slash_command("quotes", {"speaker": "Peskov"})

    [request] = await run_command(fake, interaction)

    assert request.json["flags"] == EPHEMERAL
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert request.json["embeds"][0]["title"] == COMMAND_FAILED
    assert "fire" not in str(request.json)
    ours = [r for r in caplog.records if r.name.startswith("bot.")]
    failure = next(r for r in ours if r.levelno == logging.ERROR)
    assert "/quotes failed" in failure.getMessage()
    assert failure.exc_info is not None and "database is on fire" in str(failure.exc_info[1])
    assert fake.token not in caplog.text
    assert all(interaction["token"] not in r.getMessage() for r in ours)


async def test_autocomplete_offers_at_most_25_choices_from_the_completer(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    interaction = fake.autocomplete("quotes", "speaker", "s", others={"topic": "sanctions"})
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)

    [callback] = callbacks(fake, interaction)
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [{"name": n, "value": n} for n in SPEAKERS[:25]]

    narrow = fake.autocomplete("summary", "document", "document b")
    await fake.dispatch("INTERACTION_CREATE", narrow)
    await fake.wait_for(lambda: len(callbacks(fake, narrow)) == 1)
    assert callbacks(fake, narrow)[0]["data"]["choices"] == [
        {"name": "Document B", "value": "Document B"}
    ]

    # A value longer than Discord's 100 characters could not come back whole: left out.
    too_long = fake.autocomplete("quotes", "speaker", "ddd")
    await fake.dispatch("INTERACTION_CREATE", too_long)
    await fake.wait_for(lambda: len(callbacks(fake, too_long)) == 1)
    assert callbacks(fake, too_long)[0]["data"]["choices"] == []


async def test_a_reply_too_long_for_one_message_becomes_several_follow_ups(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    long_quote = Item(text="z" * 20000, detail="The longest", quoted=True)
    archive.quotes = (
        *(
            Item(
                text=" ".join(f"q{i:02d}w{j:03d}" for j in range(300)),
                detail=f"Speaker {i} · first seen 2016-11-10",
                links=(Link("RT", f"https://rt.example/{i}"),),
                quoted=True,
            )
            for i in range(12)
        ),
        long_quote,
    )
    expected = render_messages(
        Reply(title="Quotes by Peskov", sections=(Section(items=archive.quotes),))
    )
    assert len(expected) > 2

    requests = await run_command(
        fake, fake.slash_command("quotes", {"speaker": "Peskov"}), follow_ups=len(expected)
    )

    assert len(requests) == len(expected)
    for request in requests:
        assert request.json["allowed_mentions"] == NO_MENTIONS
        embeds = request.json["embeds"]
        assert 1 <= len(embeds) <= EMBEDS_PER_MESSAGE
        assert sum(embed_units(e) for e in embeds) <= MESSAGE_TOTAL_LIMIT
        assert all(len(e.get("description", "")) <= DESCRIPTION_LIMIT for e in embeds)
        assert all(len(e.get("title", "")) <= TITLE_LIMIT for e in embeds)
    text = "\n".join(e.get("description", "") for r in requests for e in r.json["embeds"])
    assert re.findall(r"q\d\dw\d{3}", text) == [
        f"q{i:02d}w{j:03d}" for i in range(12) for j in range(300)
    ]
    assert text.count("z") == 20000
    assert re.findall(r"Speaker (\d+)", text) == [str(i) for i in range(12)]


async def test_mentions_and_markdown_in_quotes_cannot_ping_or_format(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.quotes = (
        Item(
            text="@everyone <@123456789012345678> <@&234567890123456789> "
            "<#345678901234567890> @here **bold** __u__ `c` ||s|| "
            "[click](https://evil.example)\n> fake quote",
            detail="<@123456789012345678> · first seen 2016-11-10",
            links=(Link("[x](https://evil.example)", "https://rt.com/"),),
            quoted=True,
        ),
    )

    [request] = await run_command(fake, fake.slash_command("quotes", {"speaker": "@everyone"}))

    z = "\u200b"
    assert request.json["allowed_mentions"] == {"parse": []}
    [embed] = request.json["embeds"]
    assert embed["title"] == f"Quotes by @{z}everyone"
    assert embed["description"] == (
        f"> @{z}everyone \\<@{z}123456789012345678> \\<@{z}&234567890123456789> "
        f"\\<#345678901234567890> @{z}here "
        "\\*\\*bold\\*\\* \\_\\_u\\_\\_ \\`c\\` \\|\\|s\\|\\| [click]\\(https://evil.example)\n"
        "> \\> fake quote\n"
        f"— \\<@{z}123456789012345678> · first seen 2016-11-10 · "
        "[x]\\(https://evil.example) (<https://rt.com/>)"
    )
    assert request.json.get("content") in (None, "")


# Digests through the Sender


DIGEST = Reply(
    title="Daily digest",
    sections=(
        Section(
            heading="Most repeated",
            items=(Item(text="We are ready.", detail="Peskov", quoted=True),),
        ),
    ),
)


async def test_a_digest_is_posted_to_the_channel(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    sender: Sender = bot  # mypy checks the protocol
    assert sender.platform == "discord"
    await sender.send(CHANNEL, DIGEST)

    [request] = fake.calls("POST", f"/channels/{CHANNEL}/messages")
    assert request.authorization == f"Bot {fake.token}"
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert request.json["embeds"][0]["title"] == "Daily digest"
    assert (
        request.json["embeds"][0]["description"] == "**Most repeated**\n> We are ready.\n— Peskov"
    )
    assert len(fake.channel_messages[int(CHANNEL)]) == 1


async def test_a_rate_limited_digest_is_retried_and_posted_once(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, times=2, retry_after=0.05)

    await bot.send(CHANNEL, DIGEST)

    assert [r.status for r in fake.calls("POST", f"/channels/{CHANNEL}/messages")] == [
        429,
        429,
        200,
    ]
    assert len(fake.channel_messages[int(CHANNEL)]) == 1


@pytest.mark.parametrize(
    ("status", "retryable"), [(503, True), (403, False), (404, False), (400, False)]
)
async def test_a_failed_digest_raises_delivery_error(
    fake: FakeDiscord, bot: DiscordAdapter, status: int, retryable: bool
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=status)

    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, DIGEST)

    assert raised.value.retryable is retryable
    assert str(status) in str(raised.value)
    assert int(CHANNEL) not in fake.channel_messages


async def test_a_digest_that_keeps_being_rate_limited_is_retryable(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, times=5, retry_after=0.01)

    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, DIGEST)

    assert raised.value.retryable
    assert raised.value.retry_after == pytest.approx(0.01)


async def test_a_digest_retried_after_a_lost_response_is_not_posted_twice(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, apply_first=True)
    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, DIGEST)
    assert raised.value.retryable

    await bot.send(CHANNEL, DIGEST)  # what the outbox does next

    assert len(fake.calls("POST", f"/channels/{CHANNEL}/messages")) == 2
    assert len(fake.channel_messages[int(CHANNEL)]) == 1


async def test_a_bad_channel_id_is_not_retryable(bot: DiscordAdapter) -> None:
    with pytest.raises(DeliveryError) as raised:
        await bot.send("discord:555", DIGEST)
    assert not raised.value.retryable


async def test_after_close_sending_is_retryable(fake: FakeDiscord, archive: Archive) -> None:
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()
    with pytest.raises(DeliveryError) as raised:
        await adapter.send(CHANNEL, DIGEST)
    assert raised.value.retryable
    assert fake.calls("POST", "/channels/*") == []


MARKER = "ref 0123456789"


async def test_an_unconfirmed_digest_is_found_by_its_marker(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    await bot.send(CHANNEL, Reply(title="Daily digest", footnote=f"3 outlets · {MARKER}"))
    fake.post_as_someone_else(int(CHANNEL), "ref 9999999999")

    assert await bot.already_delivered(CHANNEL, MARKER)
    assert not await bot.already_delivered(CHANNEL, "ref 9999999999")  # not from us
    assert not await bot.already_delivered("556", MARKER)
    [history, *_] = fake.calls("GET", f"/channels/{CHANNEL}/messages")
    assert history.query["limit"] == "100"


async def test_a_marker_in_a_long_footnote_shown_as_text_is_found(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    footnote = "Sources: " + "outlet_name, " * 200 + MARKER
    await bot.send(CHANNEL, Reply(title="Daily digest", footnote=footnote))

    assert await bot.already_delivered(CHANNEL, MARKER)


async def test_without_access_to_the_history_a_digest_counts_as_not_delivered(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    await bot.send(CHANNEL, Reply(title="Daily digest", footnote=MARKER))
    fake.fail_next("GET", f"/channels/{CHANNEL}/messages", status=403)

    assert not await bot.already_delivered(CHANNEL, MARKER)


async def test_a_failed_look_for_a_digest_raises_a_retryable_delivery_error(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("GET", f"/channels/{CHANNEL}/messages", status=503)

    with pytest.raises(DeliveryError) as raised:
        await bot.already_delivered(CHANNEL, MARKER)
    assert raised.value.retryable


# The gateway going away


async def test_after_the_gateway_drops_the_client_resumes_and_digests_go_out_once(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.hold_gateway()  # the reconnect waits before HELLO until we let it through
    await fake.close_gateway(code=4000)
    await fake.wait_for(lambda: fake.gateway_connections == 2)
    assert not fake.connected

    await bot.send(CHANNEL, DIGEST)  # while the gateway is down

    fake.release_gateway()
    await fake.wait_for(lambda: "RESUMED" in fake.gateway_events)
    [resume] = [f for f in fake.gateway_frames if f["op"] == 6]
    assert [resume["d"]["session_id"]] == list(fake.sessions)
    assert [f["op"] for f in fake.gateway_frames].count(2) == 1  # resumed, not identified again

    [request] = await run_command(fake, fake.slash_command("help"))
    assert request.json["embeds"][0]["title"] == "help {}"
    await bot.send("556", DIGEST)
    assert len(fake.channel_messages[int(CHANNEL)]) == 1
    assert len(fake.channel_messages[556]) == 1


async def test_wait_closed_reports_a_gateway_that_stopped_for_good(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    await fake.close_gateway(code=4004)  # "authentication failed": discord.py gives up

    with pytest.raises(discord.ConnectionClosed):
        await asyncio.wait_for(bot.wait_closed(), 5)


async def test_wait_closed_returns_when_the_adapter_is_closed(
    fake: FakeDiscord, archive: Archive
) -> None:
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    waiting = asyncio.create_task(adapter.wait_closed())
    await asyncio.sleep(0)
    assert not waiting.done()

    await adapter.close()

    await asyncio.wait_for(waiting, 5)


# Settings


def test_settings_from_env() -> None:
    assert DiscordSettings.from_env({}) is None
    assert DiscordSettings.from_env({"DISCORD_TOKEN": "  "}) is None
    full = DiscordSettings.from_env(
        {
            "DISCORD_TOKEN": "secret-token",
            "DISCORD_GUILD_ID": "123456789012345678",
            "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gateway",
        }
    )
    assert full == DiscordSettings(
        token="secret-token",
        guild_id=123456789012345678,
        api_base="http://127.0.0.1:9/api/v10",
        gateway_url="ws://127.0.0.1:9/gateway",
    )
    assert "secret-token" not in repr(full)
    assert DiscordSettings.from_env({"DISCORD_TOKEN": "t"}) == DiscordSettings(token="t")
    with pytest.raises(ValueError, match="DISCORD_GUILD_ID"):
        DiscordSettings.from_env({"DISCORD_TOKEN": "t", "DISCORD_GUILD_ID": "my-guild"})
