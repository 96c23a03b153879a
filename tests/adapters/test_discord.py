"""The Discord adapter with the real discord.py client, against a loopback fake Discord."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot import messages as m
from bot.adapters.discord import DiscordAdapter, DiscordSettings, command_payloads, commands_differ
from bot.commands import (
    Command,
    CommandError,
    Completion,
    Dispatcher,
    Param,
    ParamKind,
    Registry,
    Suggestion,
)
from bot.delivery import DeliveryError, Progress, Seen, Sender
from bot.render.discord import (
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    render_messages,
)
from bot.reply import Item, Link, Reply, Section
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord, InteractionState, RecordedRequest

GUILD = 300
CHANNEL = "555"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
SPEAKERS = [f"Speaker {n:02d}" for n in range(40)] + ["D" * 101]
LONG_TITLE = "The " + "very " * 40 + "long title"
DOCUMENTS = {"doc-a": "Document A", "doc-b": "Document B", "doc-long": LONG_TITLE}


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
    answer: Reply | None = None  # instead of the quotes

    def __post_init__(self) -> None:
        self.release.set()


def quotes_handler(archive: Archive, args: Mapping[str, object]) -> Reply:
    archive.handler_threads.append(threading.get_ident())
    archive.release.wait(timeout=5)
    if archive.error is not None:
        raise archive.error
    if archive.answer is not None:
        return archive.answer
    return Reply(title=f"Quotes by {args['speaker']}", sections=(Section(items=archive.quotes),))


def simple_handler(title: str) -> Callable[[Archive, Mapping[str, object]], Reply]:
    return lambda archive, args: Reply(title=f"{title} {dict(args)}")


def complete(archive: Archive, kind: Completion, prefix: str) -> list[Suggestion]:
    if kind is Completion.SPEAKERS:
        found = [Suggestion(n, n) for n in SPEAKERS]
    else:
        found = [Suggestion(title, doc_id) for doc_id, title in DOCUMENTS.items()]
    return [s for s in found if s.label.lower().startswith(prefix.lower())]


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


def answer_requests(fake: FakeDiscord, interaction: dict[str, Any]) -> list[RecordedRequest]:
    """The requests that carried an answer's messages: edits of the original response
    (the deferred "thinking…" message) and follow-ups, in order."""
    webhook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    return [
        r
        for r in fake.requests
        if (r.method, r.path) in (("PATCH", f"{webhook}/messages/@original"), ("POST", webhook))
    ]


async def run_command(
    fake: FakeDiscord, interaction: dict[str, Any], *, follow_ups: int = 1
) -> list[RecordedRequest]:
    """Send INTERACTION_CREATE; return the answer's requests once `follow_ups` arrived."""
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for(lambda: len(answer_requests(fake, interaction)) >= follow_ups)
    return answer_requests(fake, interaction)


async def private_answer(fake: FakeDiscord, interaction: dict[str, Any]) -> InteractionState:
    """Send INTERACTION_CREATE for a command that fails after its deferral; return what
    Discord holds once the public note in place of "thinking…" is deleted."""
    await fake.dispatch("INTERACTION_CREATE", interaction)
    original = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/@original"
    await fake.wait_for(lambda: len(fake.calls("DELETE", original)) == 1)
    return fake.interactions[interaction["token"]]


def titles(messages: list[dict[str, Any]]) -> list[str]:
    return [e["title"] for message in messages for e in message["embeds"] if e.get("title")]


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


def registered_as_discord_keeps(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Discord answers for these commands: ids and defaults added, false flags gone."""
    return [
        {
            "id": str(number),
            "application_id": "1",
            "version": str(number + 100),
            "guild_id": str(GUILD),
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": [0, 1, 2],
            "integration_types": [0],
            **command,
            "options": [
                {k: v for k, v in option.items() if v is not False}
                for option in command.get("options", [])
            ],
        }
        for number, command in enumerate(payloads)
    ]


def with_option_field(payloads: list[dict[str, Any]], key: str, value: Any) -> None:
    payloads[0]["options"][0][key] = value


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c[0].update(contexts=[0]),
        lambda c: c[0].update(default_member_permissions="0"),
        lambda c: c[0].update(nsfw=True),
        lambda c: with_option_field(c, "min_length", 2),
        lambda c: with_option_field(c, "choices", [{"name": "Peskov", "value": "Peskov"}]),
        lambda c: with_option_field(c, "autocomplete", False),
        lambda c: c.pop(),
    ],
    ids=["contexts", "permissions", "nsfw", "min_length", "choices", "flag", "fewer"],
)
def test_any_field_we_would_send_differently_means_a_sync(
    change: Callable[[list[dict[str, Any]]], None],
) -> None:
    wanted = command_payloads(registry())
    registered = registered_as_discord_keeps(command_payloads(registry()))
    assert not commands_differ(registered, wanted)
    assert not commands_differ(list(reversed(registered)), wanted)  # order of commands

    change(wanted)

    assert commands_differ(registered, wanted)


async def test_a_field_set_on_discord_that_we_do_not_send_is_reset(
    fake: FakeDiscord, archive: Archive
) -> None:
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()
    quotes = fake.commands[GUILD][0]
    quotes["default_member_permissions"] = "8"  # someone restricted it to administrators
    quotes["options"][0]["min_length"] = 3

    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()

    puts = fake.calls("PUT", "/applications/*")
    assert len(puts) == 2 and puts[-1].json == command_payloads(registry())
    assert fake.commands[GUILD][0]["default_member_permissions"] is None


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
        await adapter.send(CHANNEL, Reply(title="digest"), Progress(ref="ref 0123456789"))
    assert raised.value.retryable


# Slash commands


async def test_a_command_is_deferred_before_its_handler_finishes_then_answered(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.release.clear()  # the handler waits, like a slow query on a large archive
    interaction = fake.slash_command("quotes", {"speaker": "Peskov", "since": "2016-11-01"})
    await fake.dispatch("INTERACTION_CREATE", interaction)

    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)
    assert callbacks(fake, interaction) == [{"type": 5}]
    assert answer_requests(fake, interaction) == []
    archive.release.set()
    [request] = await run_command(fake, interaction)

    # The answer replaces the "thinking…" message: the original response, edited.
    assert request.method == "PATCH" and request.path.endswith("/messages/@original")
    assert request.json["allowed_mentions"] == NO_MENTIONS
    [message] = fake.interactions[interaction["token"]].visible
    assert message["flags"] == 0  # public, and no longer loading
    [embed] = message["embeds"]
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


async def test_a_mistake_in_the_options_is_answered_privately_at_once(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": "Peskov", "since": "yesterday"})
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)

    # Found without the archive, so no deferral: the response itself is ephemeral.
    [callback] = callbacks(fake, interaction)
    assert (callback["type"], callback["data"]["flags"]) == (4, EPHEMERAL)
    assert callback["data"]["allowed_mentions"] == NO_MENTIONS
    [message] = fake.interactions[interaction["token"]].visible
    assert message["flags"] == EPHEMERAL
    assert "must be a date" in message["embeds"][0]["title"]
    assert answer_requests(fake, interaction) == []
    assert archive.handler_threads == []


async def test_a_mistake_found_after_the_deferral_ends_up_private(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.error = CommandError("I know no speaker called 'Nobody'.")  # needs the archive
    interaction = fake.slash_command("quotes", {"speaker": "Nobody"})

    state = await private_answer(fake, interaction)

    assert callbacks(fake, interaction) == [{"type": 5}]  # public "thinking…"
    [note, error] = answer_requests(fake, interaction)
    # The deferral is replaced by a short note, then the error follows privately.
    assert note.method == "PATCH" and note.json["embeds"][0]["title"] == m.ANSWERED_PRIVATELY
    assert error.method == "POST" and error.json["flags"] == EPHEMERAL
    assert error.json["allowed_mentions"] == NO_MENTIONS
    # What is left is the error, for the user's eyes only.
    assert [mess["flags"] for mess in state.visible] == [EPHEMERAL]
    assert titles(state.visible) == ["I know no speaker called 'Nobody'."]


async def test_a_handler_error_is_a_short_ephemeral_message_and_logged_without_the_token(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    archive.error = RuntimeError("database is on fire")
    interaction = fake.slash_command("quotes", {"speaker": "Peskov"})

    state = await private_answer(fake, interaction)

    [message] = state.visible
    assert message["flags"] == EPHEMERAL
    assert titles(state.visible) == [m.COMMAND_FAILED]
    assert "fire" not in str(fake.requests)
    ours = [r for r in caplog.records if r.name.startswith("bot.")]
    failure = next(r for r in ours if r.levelno == logging.ERROR)
    assert "/quotes failed" in failure.getMessage()
    assert failure.exc_info is not None and "database is on fire" in str(failure.exc_info[1])
    assert fake.token not in caplog.text
    assert all(interaction["token"] not in r.getMessage() for r in ours)


@pytest.mark.parametrize("drop", [True, False], ids=["network error", "HTTP 400"])
async def test_an_answer_that_fails_to_go_out_still_tells_the_user_privately(
    fake: FakeDiscord,
    bot: DiscordAdapter,
    caplog: pytest.LogCaptureFixture,
    drop: bool,
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": "Peskov"})
    original = f"/webhooks/{fake.application_id}/{interaction['token']}/messages/@original"
    fake.fail_next("PATCH", original, status=400, drop=drop)

    state = await private_answer(fake, interaction)

    assert titles(state.visible) == [m.COMMAND_FAILED]
    assert state.visible[0]["flags"] == EPHEMERAL
    assert "could not answer /quotes" in caplog.text
    assert interaction["token"] not in caplog.text


async def test_when_a_private_error_fails_to_go_out_the_public_note_still_goes(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.error = CommandError("I know no speaker called 'Nobody'.")
    interaction = fake.slash_command("quotes", {"speaker": "Nobody"})
    webhook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    fake.fail_next("POST", webhook, status=400)  # the ephemeral error itself

    state = await private_answer(fake, interaction)

    assert [r.status for r in fake.calls("POST", webhook)] == [400, 200]
    assert titles(state.visible) == [m.COMMAND_FAILED]
    assert state.visible[0]["flags"] == EPHEMERAL


async def test_a_follow_up_that_fails_after_part_of_the_answer_is_reported_privately(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive
) -> None:
    archive.quotes = tuple(
        Item(text=" ".join(f"w{i}-{j}" for j in range(700)), detail="Someone", quoted=True)
        for i in range(3)
    )
    interaction = fake.slash_command("quotes", {"speaker": "Peskov"})
    webhook = f"/webhooks/{fake.application_id}/{interaction['token']}"
    fake.fail_next("POST", webhook, status=503, drop=True)  # the second message's follow-up

    [first, failed, told] = await run_command(fake, interaction, follow_ups=3)

    assert (first.method, failed.method, told.method) == ("PATCH", "POST", "POST")
    state = fake.interactions[interaction["token"]]
    # The part already public stays; the user alone learns the rest did not come.
    assert [message["flags"] for message in state.visible] == [0, EPHEMERAL]
    assert titles(state.visible) == ["Quotes by Peskov", m.COMMAND_FAILED]
    assert fake.calls("DELETE", f"{webhook}/messages/@original") == []


async def test_a_reply_the_renderer_cannot_render_still_gets_a_short_private_error(
    fake: FakeDiscord, bot: DiscordAdapter, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    impossible = Reply(title="Quotes", sections=(Section(items=(cast(Item, None),)),))
    archive.answer = impossible

    state = await private_answer(fake, fake.slash_command("quotes", {"speaker": "Peskov"}))

    assert titles(state.visible) == [m.COMMAND_FAILED]
    assert state.visible[0]["flags"] == EPHEMERAL
    assert "could not answer /quotes" in caplog.text


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
        {"name": "Document B", "value": "doc-b"}
    ]

    # A value longer than Discord's 100 characters could not come back whole: left out.
    too_long = fake.autocomplete("quotes", "speaker", "ddd")
    await fake.dispatch("INTERACTION_CREATE", too_long)
    await fake.wait_for(lambda: len(callbacks(fake, too_long)) == 1)
    assert callbacks(fake, too_long)[0]["data"]["choices"] == []


async def test_a_document_with_a_long_title_can_be_picked_by_its_id(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    assert len(LONG_TITLE) > 100
    interaction = fake.autocomplete("summary", "document", "the very")
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)

    [choice] = callbacks(fake, interaction)[0]["data"]["choices"]
    assert choice["value"] == "doc-long"
    assert len(choice["name"]) <= 100 and choice["name"].endswith("…")
    assert LONG_TITLE.startswith(choice["name"].removesuffix("…"))

    picked = fake.slash_command("summary", {"document": choice["value"]})
    [request] = await run_command(fake, picked)
    assert request.json["embeds"][0]["title"] == "summary {'document': 'doc-long'}"


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
MARKER = "ref 0123456789"
# Three messages: each item fills most of one.
LONG_DIGEST = Reply(
    title="Daily digest",
    sections=(Section(items=tuple(Item(text=f"story {n} " + "word " * 700) for n in range(3))),),
    footnote=f"3 outlets · {MARKER}",
)


@dataclass
class Accepted:
    """What the outbox would record: the parts accepted so far, after each one."""

    counts: list[int] = field(default_factory=list)

    def progress(self, done: int = 0) -> Progress:
        return Progress(ref=MARKER, done=done, accepted=self.counts.append)


def footers(fake: FakeDiscord, channel: str = CHANNEL) -> list[str]:
    return [m["embeds"][-1]["footer"]["text"] for m in fake.channel_messages[int(channel)]]


async def test_a_digest_is_posted_to_the_channel(fake: FakeDiscord, bot: DiscordAdapter) -> None:
    sender: Sender = bot  # mypy checks the protocol
    assert sender.platform == "discord"
    accepted = Accepted()
    await sender.send(CHANNEL, DIGEST, accepted.progress())

    [request] = fake.calls("POST", f"/channels/{CHANNEL}/messages")
    assert request.authorization == f"Bot {fake.token}"
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert request.json["embeds"][0]["title"] == "Daily digest"
    assert (
        request.json["embeds"][0]["description"] == "**Most repeated**\n> We are ready.\n— Peskov"
    )
    assert footers(fake) == [MARKER]  # one part: the reference alone
    assert accepted.counts == [1]


async def test_each_part_of_a_long_digest_carries_the_reference_and_its_number(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    accepted = Accepted()
    await bot.send(CHANNEL, LONG_DIGEST, accepted.progress())

    assert footers(fake) == [
        f"{MARKER} · part 1 of 3",
        f"{MARKER} · part 2 of 3",
        f"3 outlets · {MARKER} · part 3 of 3",
    ]
    assert accepted.counts == [1, 2, 3]
    assert await bot.delivered(CHANNEL, MARKER) == Seen(parts=3, total=3)


async def test_a_send_resumes_after_the_parts_already_accepted(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    accepted = Accepted()
    await bot.send(CHANNEL, LONG_DIGEST, accepted.progress(done=2))

    assert footers(fake) == [f"3 outlets · {MARKER} · part 3 of 3"]
    assert accepted.counts == [3]


async def test_a_rate_limited_digest_is_retried_and_posted_once(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, times=2, retry_after=0.05)

    await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))

    assert [r.status for r in fake.calls("POST", f"/channels/{CHANNEL}/messages")] == [
        429,
        429,
        200,
    ]
    assert len(fake.channel_messages[int(CHANNEL)]) == 1


async def test_a_long_rate_limit_is_left_to_the_outbox_not_slept_through(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, retry_after=120.0)

    async with asyncio.timeout(10):  # discord.py alone would sleep two minutes here
        with pytest.raises(DeliveryError) as raised:
            await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))

    assert raised.value.retryable and not raised.value.maybe_sent
    assert raised.value.retry_after == pytest.approx(120.0)
    assert int(CHANNEL) not in fake.channel_messages


@pytest.mark.parametrize(
    ("status", "retryable", "maybe_sent"),
    [(503, True, True), (403, False, False), (404, False, False), (400, False, False)],
)
async def test_a_failed_digest_raises_delivery_error(
    fake: FakeDiscord, bot: DiscordAdapter, status: int, retryable: bool, maybe_sent: bool
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=status)

    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))

    assert raised.value.retryable is retryable
    assert raised.value.maybe_sent is maybe_sent  # a server error may follow the post
    assert str(status) in str(raised.value)
    assert int(CHANNEL) not in fake.channel_messages


async def test_a_digest_that_keeps_being_rate_limited_is_retryable(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, times=5, retry_after=0.01)

    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))

    assert raised.value.retryable
    assert raised.value.retry_after == pytest.approx(0.01)


async def test_a_part_whose_response_was_lost_is_found_in_the_channel(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    """Discord stored part 2 but the answer was lost: the outbox asks the channel, and
    the retry posts part 3 only. Nothing relies on Discord's short-lived nonce memory."""
    fake.nonce_window_seconds = 0.0
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, apply_first=True, after=1)
    accepted = Accepted()
    with pytest.raises(DeliveryError) as raised:
        await bot.send(CHANNEL, LONG_DIGEST, accepted.progress())
    assert raised.value.maybe_sent and accepted.counts == [1]

    seen = await bot.delivered(CHANNEL, MARKER)
    assert seen == Seen(parts=2, total=3)
    await bot.send(CHANNEL, LONG_DIGEST, accepted.progress(done=seen.parts))

    assert footers(fake) == [
        f"{MARKER} · part 1 of 3",
        f"{MARKER} · part 2 of 3",
        f"3 outlets · {MARKER} · part 3 of 3",
    ]


async def test_within_the_nonce_window_discord_drops_a_repeated_part(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, apply_first=True)
    with pytest.raises(DeliveryError):
        await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))

    await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))  # at once: the same nonce

    assert len(fake.calls("POST", f"/channels/{CHANNEL}/messages")) == 2
    assert len(fake.channel_messages[int(CHANNEL)]) == 1


async def test_a_bad_channel_id_is_not_retryable(bot: DiscordAdapter) -> None:
    with pytest.raises(DeliveryError) as raised:
        await bot.send("discord:555", DIGEST, Progress(ref=MARKER))
    assert not raised.value.retryable


async def test_after_close_sending_is_retryable(fake: FakeDiscord, archive: Archive) -> None:
    adapter = DiscordAdapter(settings(fake), dispatcher(archive))
    await asyncio.wait_for(adapter.start(), 10)
    await adapter.close()
    with pytest.raises(DeliveryError) as raised:
        await adapter.send(CHANNEL, DIGEST, Progress(ref=MARKER))
    assert raised.value.retryable
    assert fake.calls("POST", "/channels/*") == []


async def test_an_unconfirmed_digest_is_found_by_its_marker(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    digest = Reply(title="Daily digest", footnote=f"3 outlets · {MARKER}")
    await bot.send(CHANNEL, digest, Progress(ref=MARKER))
    fake.post_as_someone_else(int(CHANNEL), "ref 9999999999")

    assert await bot.delivered(CHANNEL, MARKER) == Seen(parts=1, total=1)
    assert await bot.delivered(CHANNEL, "ref 9999999999") == Seen()  # not from us
    assert await bot.delivered("556", MARKER) == Seen()
    [history, *_] = fake.calls("GET", f"/channels/{CHANNEL}/messages")
    assert history.query["limit"] == "100"


async def test_a_marker_in_a_long_footnote_shown_as_text_is_found(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    footnote = "Sources: " + "outlet_name, " * 200 + MARKER
    await bot.send(CHANNEL, Reply(title="Daily digest", footnote=footnote), Progress(ref=MARKER))

    assert (await bot.delivered(CHANNEL, MARKER)).complete


async def test_without_access_to_the_history_a_digest_counts_as_not_delivered(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    await bot.send(CHANNEL, Reply(title="Daily digest", footnote=MARKER), Progress(ref=MARKER))
    fake.fail_next("GET", f"/channels/{CHANNEL}/messages", status=403)

    assert await bot.delivered(CHANNEL, MARKER) == Seen()


async def test_a_failed_look_for_a_digest_raises_a_retryable_delivery_error(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.fail_next("GET", f"/channels/{CHANNEL}/messages", status=503)

    with pytest.raises(DeliveryError) as raised:
        await bot.delivered(CHANNEL, MARKER)
    assert raised.value.retryable


# The gateway going away


async def test_after_the_gateway_drops_the_client_resumes_and_digests_go_out_once(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    fake.hold_gateway()  # the reconnect waits before HELLO until we let it through
    await fake.close_gateway(code=4000)
    await fake.wait_for(lambda: fake.gateway_connections == 2)
    assert not fake.connected

    await bot.send(CHANNEL, DIGEST, Progress(ref=MARKER))  # while the gateway is down

    fake.release_gateway()
    await fake.wait_for(lambda: "RESUMED" in fake.gateway_events)
    [resume] = [f for f in fake.gateway_frames if f["op"] == 6]
    assert [resume["d"]["session_id"]] == list(fake.sessions)
    assert [f["op"] for f in fake.gateway_frames].count(2) == 1  # resumed, not identified again

    [request] = await run_command(fake, fake.slash_command("help"))
    assert request.json["embeds"][0]["title"] == "help {}"
    await bot.send("556", DIGEST, Progress(ref=MARKER))
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
