"""The whole bot on Discord: the real registry over a seed-built SQLite archive, served by
the real discord.py client, against the loopback fake Discord. Digests go through the
outbox, as `briefbot run` sends them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord import DiscordAdapter
from bot.app import App, StartupError
from bot.config import Settings, load_settings
from bot.outbox import Status, marker, stamp
from bot.render.discord import (
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    FOOTER_LIMIT,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    render_messages,
    units,
)
from bot.reply import Item, Reply, Section, reply_from_dict
from bot.scheduler import Schedule
from bot.store import Delivery
from tests.adapters.test_discord import (
    answer_requests,
    callbacks,
    private_answer,
    run_command,
)
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord, RecordedRequest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
ARTICLES = ROOT / "tests" / "articles"
CONFIG = ROOT / "config"

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
GUILD = 300
CHANNEL = 123456789012345678
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
ZWSP = "\u200b"  # what discord.py puts after an @ so that it cannot mention

PHENOMENAL = "It is phenomenal how close they are to one another"
TRUST = "An atmosphere of mutual trust takes years to achieve"
NOT_POSSIBLE = "It’s not possible to just declare that there is an atmosphere of mutual trust"
ONCE_PRINTED = (
    "They (Putin and Trump) set out the same main foreign policy principles",
    "Putin pursues consistent and flexible policy, but flexibility has limits",
    "The Kyiv regime and Zelenskyy do not want peace",
)
CANONICAL_COMMANDS = [
    "quotes",
    "overlaps",
    "summary",
    "search",
    "sources",
    "speakers",
    "digest",
    "help",
]

INJECTION_ARTICLE = """Harbour council meeting ends in uproar

By Test Reporter

LONDON (Test Wire) – The harbour council meeting ended early on Tuesday after a heated exchange.

“Tell @everyone, <@123> and <@123456789012345678> that the **bold** plan works,” said Mallory Quint.

Other members declined to comment.
"""

RESIDENTS = [
    f"{first} {last}"
    for first, last in zip(
        "Alice Bruno Chloe Denis Elena Farid Greta Hugo Ingrid Jonas Kira Lukas Maria Nils "
        "Olga Pavel Quentin Rosa Stefan Tanja Ugo Vera Walter Xenia Yusuf Zora".split(),
        "Adler Brandt Carver Dorn Ellis Fenwick Garner Holt Iverson Jansen Kober Lund Moss "
        "Nagel Orton Pratt Quill Rook Sutter Thorne Upton Vance Wilde Yates Young Zeller".split(),
        strict=True,
    )
]
RESIDENTS_ARTICLE = (
    "Twenty-six voices on the harbour\n\nBy Test Reporter\n\n"
    "LONDON (Test Wire) – Residents spoke at the harbour council on Tuesday.\n\n"
    + "\n\n".join(
        f"“The northern quay needs repairs before the winter storms arrive,” said {name}."
        for name in RESIDENTS
    )
    + "\n"
)


# Fixtures


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def bot_settings(folder: Path, database: Path) -> Settings:
    return Settings(
        storage_url=f"sqlite:///{database}",
        corpus_paths=(SEEDS,),
        briefings_dir=folder / "briefings",
        config_dir=CONFIG,
    )


def discord_env(fake: FakeDiscord) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_GUILD_ID": str(GUILD),
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }


@pytest.fixture(scope="module")
def seed_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds ingested once per module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("seed-archive")
    database = folder / "briefbot.db"
    app = App(bot_settings(folder, database), env={}, clock=lambda: NOW, out=io.StringIO())
    try:
        report = app.ingest((SEEDS,))
    finally:
        app.close()
    assert len(report.result.added) == 5 and not report.problems
    return database


def copy_database(source: Path, target: Path) -> None:
    # SQLite's own backup, so that nothing still in the WAL file is left behind.
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


@pytest.fixture(autouse=True)
async def no_tasks_left_behind() -> AsyncIterator[None]:
    """Set up first, so torn down last: after the adapter and the fake have closed."""
    yield
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert left == []


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeDiscord]:
    # The fake forgets a message nonce as Discord does, a few minutes later by the
    # bot's clock: an outbox retry an hour on gets no help from it.
    async with FakeDiscord(clock=lambda: clock().timestamp()) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@dataclass
class Bot:
    """An App over a copy of the seed archive, with the environment of a Discord deployment."""

    folder: Path
    database: Path
    env: dict[str, str]
    clock: Clock
    out: io.StringIO

    def open(self) -> App:
        return App(
            bot_settings(self.folder, self.database), env=self.env, clock=self.clock, out=self.out
        )


@pytest.fixture
def deployment(fake: FakeDiscord, seed_database: Path, tmp_path: Path, clock: Clock) -> Bot:
    database = tmp_path / "briefbot.db"
    copy_database(seed_database, database)
    return Bot(tmp_path, database, discord_env(fake), clock, io.StringIO())


@pytest.fixture
def app(deployment: Bot) -> Iterator[App]:
    opened = deployment.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
async def bot(app: App) -> AsyncIterator[DiscordAdapter]:
    """The Discord adapter exactly as `App` builds it from the environment, started."""
    [(name, adapter)] = app.platform_adapters()
    assert name == "Discord" and isinstance(adapter, DiscordAdapter)
    await asyncio.wait_for(adapter.start(), 10)
    try:
        yield adapter
    finally:
        await asyncio.wait_for(adapter.close(), 10)


# Helpers


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def descriptions(requests: list[RecordedRequest]) -> str:
    return "\n\n".join(e.get("description", "") for r in requests for e in r.json["embeds"])


def shown_text(markdown: str) -> str:
    """Roughly what a reader sees: no quote bars, escapes or zero-width spaces; one space."""
    text = re.sub(r"(?m)^> ", "", markdown).replace("\\", "").replace(ZWSP, "")
    return " ".join(text.split())


def assert_within_limits(payload: Mapping[str, Any]) -> None:
    embeds = payload["embeds"]
    assert 1 <= len(embeds) <= EMBEDS_PER_MESSAGE
    assert len(payload.get("content") or "") <= 2000
    total = 0
    for embed in embeds:
        title = embed.get("title", "")
        description = embed.get("description", "")
        footer = embed.get("footer", {}).get("text", "")
        assert units(title) <= TITLE_LIMIT
        assert units(description) <= DESCRIPTION_LIMIT
        assert units(footer) <= FOOTER_LIMIT
        total += units(title) + units(description) + units(footer)
    assert total <= MESSAGE_TOTAL_LIMIT


def assert_peskov_answer(requests: list[RecordedRequest]) -> None:
    [request] = requests
    assert request.json["allowed_mentions"] == NO_MENTIONS
    assert request.json.get("flags", 0) & EPHEMERAL == 0
    [embed] = request.json["embeds"]
    assert embed["title"] == "Dmitry Peskov: 10 statements"
    repeated, once = embed["description"].split("\n\n**Printed once**\n")
    clusters = repeated.removeprefix("**Repeated across outlets**\n").split("\n\n")
    openings = (PHENOMENAL, TRUST, NOT_POSSIBLE)
    for cluster, opening in zip(clusters, openings, strict=True):
        assert cluster.startswith(f"> {opening}")
    for cluster in clusters:
        meta = next(line for line in cluster.split("\n") if line.startswith("— "))
        assert meta.startswith("— Dmitry Peskov · 3 sources · first seen 2016-11-10 (Reuters)")
        assert cluster.split("\n")[-1].startswith("• ")  # how an outlet printed it
        outlets = meta.split(" · ")[-3:]
        assert outlets[0] == "Reuters"  # the earliest outlet first
        assert outlets[2] == "Trump: Russia’s Chance for Friendship?"
    for quote in ONCE_PRINTED:
        assert f"> {quote}" in once
    assert "— 2016-11-10 · Reuters" in once


def digest_schedule() -> Schedule:
    return Schedule("newsroom", "0 8 * * *", "UTC", f"discord:{CHANNEL}")


def posted_digest(fake: FakeDiscord) -> list[dict[str, Any]]:
    return fake.channel_messages.get(CHANNEL, [])


def pages_of(delivery: Delivery) -> list[dict[str, Any]]:
    return [
        {"embeds": [e.to_dict() for e in m.embeds]}
        for m in render_messages(
            reply_from_dict(delivery.reply), ref=marker(delivery.target, delivery.slot)
        )
    ]


# Login and command sync


EXPECTED_QUOTES_OPTIONS = [
    {
        "type": 3,
        "name": "speaker",
        "description": "Who said it, e.g. Peskov",
        "required": True,
        "autocomplete": True,
    },
    {
        "type": 3,
        "name": "since",
        "description": "Only from this date on (YYYY-MM-DD)",
        "required": False,
    },
    {
        "type": 3,
        "name": "topic",
        "description": "Only statements mentioning these words",
        "required": False,
    },
    {
        "type": 4,
        "name": "limit",
        "description": "How many to show",
        "required": False,
        "min_value": 1,
        "max_value": 100,
    },
]


async def test_login_registers_exactly_the_real_commands(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    guild_commands = f"/applications/{fake.application_id}/guilds/{GUILD}/commands"
    assert [(r.method, r.path) for r in fake.requests[:4]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("GET", guild_commands),
        ("PUT", guild_commands),
    ]
    [put] = fake.calls("PUT", "/applications/*")
    by_name = {c["name"]: c for c in put.json}
    assert list(by_name) == CANONICAL_COMMANDS
    assert all(c["type"] == 1 and 0 < len(c["description"]) <= 100 for c in put.json)
    assert by_name["quotes"]["options"] == EXPECTED_QUOTES_OPTIONS
    [document] = by_name["summary"]["options"]
    assert (document["name"], document["required"], document["autocomplete"]) == (
        "document",
        True,
        True,
    )
    min_outlets = by_name["overlaps"]["options"][0]
    assert (min_outlets["name"], min_outlets["type"], min_outlets["min_value"]) == (
        "min_outlets",
        4,
        2,
    )
    assert min_outlets["required"] is False
    assert [o["name"] for o in by_name["search"]["options"]] == ["text", "limit"]
    assert by_name["search"]["options"][0]["required"] is True
    assert [o["name"] for o in by_name["sources"]["options"]] == ["limit"]
    assert "options" not in by_name["help"]
    assert fake.commands[GUILD] and fake.gateway_events == ["READY"]


# Slash commands over the seed archive


async def test_quotes_peskov_is_deferred_then_answered_with_his_clusters(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": "Peskov"})

    requests = await run_command(fake, interaction)

    assert callbacks(fake, interaction) == [{"type": 5}]
    assert_peskov_answer(requests)


async def test_a_misspelt_speaker_still_finds_peskov(
    fake: FakeDiscord, bot: DiscordAdapter
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": "Peskof"})

    assert_peskov_answer(await run_command(fake, interaction))


@pytest.mark.parametrize(
    ("speaker", "expected_lines"),
    [
        ("Sergei", ["**Did you mean one of these?**", "**Sergei Lavrov**", "**Sergei Ryabkov**"]),
        ("Nobody Atall", ["Try /speakers to see everyone quoted in the archive."]),
    ],
)
async def test_an_unknown_speaker_gets_a_private_answer_never_an_empty_one(
    fake: FakeDiscord, bot: DiscordAdapter, speaker: str, expected_lines: list[str]
) -> None:
    interaction = fake.slash_command("quotes", {"speaker": speaker})

    state = await private_answer(fake, interaction)

    [message] = state.visible  # the public note in place of "thinking…" is gone
    assert message["flags"] == EPHEMERAL
    assert all(
        r.json["allowed_mentions"] == NO_MENTIONS for r in answer_requests(fake, interaction)
    )
    [embed] = message["embeds"]
    assert embed["title"] == f"I know no speaker called '{speaker}'."
    lines = [*embed["description"].split("\n"), embed.get("footer", {}).get("text", "")]
    assert all(line in lines for line in expected_lines)


async def test_autocomplete_offers_speakers_from_the_archive(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, tmp_path: Path
) -> None:
    interaction = fake.autocomplete("quotes", "speaker", "pes")
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for(lambda: len(callbacks(fake, interaction)) == 1)
    [callback] = callbacks(fake, interaction)
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [{"name": "Dmitry Peskov", "value": "Dmitry Peskov"}]

    # With more speakers in the archive than Discord takes, it gets the first 25.
    app.ingest((write_article(tmp_path / "more", "residents.txt", RESIDENTS_ARTICLE),))
    assert len(app.archive.speaker_counts()) > 25
    everyone = fake.autocomplete("quotes", "speaker", "")
    await fake.dispatch("INTERACTION_CREATE", everyone)
    await fake.wait_for(lambda: len(callbacks(fake, everyone)) == 1)
    choices = callbacks(fake, everyone)[0]["data"]["choices"]
    assert len(choices) == 25
    assert len({c["value"] for c in choices}) == 25
    assert set(c["value"] for c in choices) <= set(app.archive.speaker_counts())

    document = fake.autocomplete("summary", "document", "kremlin hails")
    await fake.dispatch("INTERACTION_CREATE", document)
    await fake.wait_for(lambda: len(callbacks(fake, document)) == 1)
    [choice] = callbacks(fake, document)[0]["data"]["choices"]
    title = "Kremlin Hails Trump’s Foreign Policy Shift, Citing Alignment with Russian Interests"
    [meta] = [d for d in app.archive.documents() if d.title == title]
    assert choice == {"name": title, "value": meta.id}

    # A title longer than a choice may be is shown shortened, and picked by id all the same.
    long_title = "The harbour council " + "and the quay " * 10 + "at last agree"
    article = f"---\ntitle: {long_title}\n---\nThe council met again on Wednesday.\n"
    app.ingest((write_article(tmp_path / "long", "long.md", article),))
    [long_meta] = [d for d in app.archive.documents() if d.title == long_title]
    picking = fake.autocomplete("summary", "document", "the harbour council and the quay")
    await fake.dispatch("INTERACTION_CREATE", picking)
    await fake.wait_for(lambda: len(callbacks(fake, picking)) == 1)
    [long_choice] = callbacks(fake, picking)[0]["data"]["choices"]
    assert long_choice["value"] == long_meta.id
    assert len(long_choice["name"]) <= 100 < len(long_title)
    [summary] = await run_command(
        fake, fake.slash_command("summary", {"document": long_choice["value"]})
    )
    assert long_title in shown_text(summary.json["embeds"][0]["title"])


async def test_a_long_search_comes_in_several_messages_within_limits_losing_nothing(
    fake: FakeDiscord, bot: DiscordAdapter, app: App
) -> None:
    app.ingest((ARTICLES,))
    expected = app.dispatcher().run("search", {"text": "the", "limit": "100"})
    items = [item for section in expected.sections for item in section.items]
    assert len(items) > 20

    interaction = fake.slash_command("search", {"text": "the", "limit": 100})
    parts = len(render_messages(expected))
    requests = await run_command(fake, interaction, follow_ups=parts)

    assert parts > 1 and len(requests) == parts
    for request in requests:
        assert request.json["allowed_mentions"] == NO_MENTIONS
        assert_within_limits(request.json)
    assert requests[0].json["embeds"][0]["title"] == "Search for 'the'"
    shown = shown_text(descriptions(requests))
    position = 0
    for item in items:  # every item, whole and in order
        found = shown.find(" ".join(item.text.split()), position)
        assert found >= 0, item.text
        position = found
        for link in item.links:
            assert link.label in shown
    assert " ".join(items[-1].text.split()) in shown_text(descriptions(requests[-1:]))


async def test_mentions_and_markdown_from_an_article_reach_discord_inert(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, tmp_path: Path
) -> None:
    report = app.ingest((write_article(tmp_path / "new", "harbour.txt", INJECTION_ARTICLE),))
    assert len(report.result.added) == 1

    interaction = fake.slash_command("quotes", {"speaker": "Mallory Quint"})
    [request] = await run_command(fake, interaction)

    assert request.json == {
        "tts": False,
        "embeds": [
            {
                "color": 5793266,
                "type": "rich",
                "description": "**Printed once**\n"
                f"> Tell @{ZWSP}everyone, \\<@123> and \\<@{ZWSP}123456789012345678> that "
                "the \\*\\*bold\\*\\* plan works\n"
                "— undated, ingested 2025-03-10 · Test Wire",
                "title": "Mallory Quint: 1 statement",
                "flags": 0,
            }
        ],
        "allowed_mentions": NO_MENTIONS,
    }


# Scheduled digests through the outbox


async def test_a_scheduled_digest_is_delivered_exactly_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: App
) -> None:
    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")

    outcomes = await app.outbox.deliver_due()

    assert [(o.target, o.status) for o in outcomes] == [(f"discord:{CHANNEL}", Status.SENT)]
    posted = posted_digest(fake)
    expected = pages_of(delivery)
    assert [{"embeds": p["embeds"]} for p in posted] == expected
    assert posted[0]["embeds"][0]["title"] == "briefbot digest: everything so far"
    assert (
        marker(f"discord:{CHANNEL}", "2025-03-10T0800Z")
        in posted[-1]["embeds"][-1]["footer"]["text"]
    )
    sends = fake.calls("POST", f"/channels/{CHANNEL}/messages")
    assert all(r.json["allowed_mentions"] == NO_MENTIONS for r in sends)

    # The same slot again, and the retry tick: nothing more is posted.
    assert app.stage_digest(digest_schedule(), "2025-03-10T0800Z").id == delivery.id
    assert await app.outbox.deliver_due() == []
    assert len(posted_digest(fake)) == len(expected)
    [stored] = app.store.deliveries(target=f"discord:{CHANNEL}")
    assert stored.status == Status.SENT and stored.attempts == 1


async def test_a_rate_limited_digest_is_posted_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: App
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, retry_after=0.05)
    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")

    outcomes = await app.outbox.deliver_due()

    assert [o.status for o in outcomes] == [Status.SENT]
    statuses = [r.status for r in fake.calls("POST", f"/channels/{CHANNEL}/messages")]
    assert statuses[:2] == [429, 200] and statuses.count(429) == 1
    assert len(posted_digest(fake)) == len(pages_of(delivery))


async def test_a_digest_due_while_the_gateway_is_down_goes_out_once(
    fake: FakeDiscord, bot: DiscordAdapter, app: App
) -> None:
    fake.hold_gateway()  # the reconnect waits before HELLO until released
    await fake.close_gateway(code=4000)
    await fake.wait_for(lambda: fake.gateway_connections == 2)
    assert not fake.connected

    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")
    outcomes = await app.outbox.deliver_due()
    assert [o.status for o in outcomes] == [Status.SENT]
    assert not fake.connected and len(posted_digest(fake)) == len(pages_of(delivery))

    fake.release_gateway()
    await fake.wait_for(lambda: "RESUMED" in fake.gateway_events)
    assert [f["op"] for f in fake.gateway_frames].count(2) == 1  # resumed, not identified
    assert await app.outbox.deliver_due() == []
    await app.outbox.recover()
    assert app.stage_digest(digest_schedule(), "2025-03-10T0800Z").id == delivery.id
    assert await app.outbox.deliver_due() == []

    assert len(posted_digest(fake)) == len(pages_of(delivery))
    # Commands work again on the resumed session.
    assert_peskov_answer(
        await run_command(fake, fake.slash_command("quotes", {"speaker": "Peskov"}))
    )


async def test_a_digest_that_cannot_be_sent_is_kept_and_goes_out_later(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, clock: Clock
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, times=3)
    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")

    # A 503 may come after Discord stored the message: unconfirmed until the channel
    # has been looked at, then retried, with backoff.
    [failed] = await app.outbox.deliver_due()
    assert failed.status == Status.SENDING and "503" in (failed.error or "")
    clock.advance(600)
    [failed_again] = await app.outbox.deliver_due()
    assert failed_again.status == Status.SENDING
    [stored] = app.store.deliveries(target=f"discord:{CHANNEL}")
    assert (stored.status, stored.attempts, stored.parts_sent) == (Status.SENDING, 2, 0)
    assert stored.next_attempt_at > clock()
    assert posted_digest(fake) == []
    assert await app.outbox.deliver_due() == []  # not due yet: backing off

    clock.advance(3600)  # the fake recovers after one more failure; the retries go on
    [still] = await app.outbox.deliver_due()
    assert still.status == Status.SENDING
    clock.advance(3600)
    [sent] = await app.outbox.deliver_due()

    assert sent.status == Status.SENT
    assert [{"embeds": p["embeds"]} for p in posted_digest(fake)] == pages_of(delivery)
    assert len(fake.calls("GET", f"/channels/{CHANNEL}/messages")) == 3  # before each retry


async def test_a_digest_whose_response_was_lost_is_not_posted_twice(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, clock: Clock
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, apply_first=True)
    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")

    [failed] = await app.outbox.deliver_due()
    assert failed.status == Status.SENDING
    clock.advance(3600)  # long past Discord's memory of the nonce
    [sent] = await app.outbox.deliver_due()

    assert sent.status == Status.SENT
    assert [{"embeds": p["embeds"]} for p in posted_digest(fake)] == pages_of(delivery)


def long_digest(target: str, slot: str) -> Reply:
    """A digest of four messages (the seed digest takes two)."""
    items = tuple(Item(text=f"story {n} " + "word " * 700) for n in range(4))
    return stamp(
        Reply(title="briefbot digest", sections=(Section(items=items),)), target=target, slot=slot
    )


def stage_long_digest(app: App) -> Delivery:
    target, slot = f"discord:{CHANNEL}", "newsroom@2025-03-10T08:00Z"
    delivery = app.outbox.stage(
        target=target,
        slot=slot,
        window_start=None,
        window_end=NOW,
        reply=long_digest(target, slot),
        markdown="",
    )
    assert len(pages_of(delivery)) == 4
    return delivery


async def test_a_digest_whose_second_part_fails_goes_out_whole_once_in_order(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, clock: Clock
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=503, after=1)
    delivery = stage_long_digest(app)

    [failed] = await app.outbox.deliver_due()
    assert failed.status == Status.SENDING
    unconfirmed = app.store.delivery(delivery.target, delivery.slot)
    assert unconfirmed is not None and unconfirmed.parts_sent == 1
    clock.advance(3600)  # long past Discord's memory of the nonces
    [sent] = await app.outbox.deliver_due()

    assert sent.status == Status.SENT
    assert [{"embeds": p["embeds"]} for p in posted_digest(fake)] == pages_of(delivery)
    footers = [p["embeds"][-1]["footer"]["text"] for p in posted_digest(fake)]
    ref = marker(delivery.target, delivery.slot)
    assert footers == [f"{ref} · part {n} of 4" for n in range(1, 5)]


async def test_after_a_crash_once_part_1_was_accepted_a_restart_posts_only_the_rest(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, deployment: Bot
) -> None:
    fake.hold_answer("POST", f"/channels/{CHANNEL}/messages")  # part 1 stored, answer held
    delivery = stage_long_digest(app)
    delivering = asyncio.create_task(app.outbox.deliver_due())
    await fake.wait_for(lambda: len(posted_digest(fake)) == 1)
    delivering.cancel()  # the crash, before the bot heard that part 1 arrived
    with contextlib.suppress(asyncio.CancelledError):
        await delivering
    fake.release()
    unconfirmed = app.store.delivery(delivery.target, delivery.slot)
    assert unconfirmed is not None
    assert (unconfirmed.status, unconfirmed.parts_sent) == (Status.SENDING, 0)

    restarted = deployment.open()  # a new process, whose adapter is logged in
    try:
        restarted.outbox.add_sender(bot)
        await restarted.outbox.recover()
        [outcome] = await restarted.outbox.deliver_due()
    finally:
        restarted.close()

    assert outcome.status == Status.SENT
    assert [{"embeds": p["embeds"]} for p in posted_digest(fake)] == pages_of(delivery)
    assert len(fake.calls("POST", f"/channels/{CHANNEL}/messages")) == 4


async def test_a_long_rate_limit_reschedules_the_digest_and_other_targets_still_go_out(
    fake: FakeDiscord, bot: DiscordAdapter, app: App, clock: Clock
) -> None:
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=429, retry_after=120.0)
    limited = app.stage_digest(digest_schedule(), "newsroom@2025-03-10T08:00Z")
    other = Schedule("desk", "0 8 * * *", "UTC", "discord:556")
    app.stage_digest(other, "desk@2025-03-10T08:00Z")

    async with asyncio.timeout(10):  # no two-minute sleep inside the send
        outcomes = await app.outbox.deliver_due()

    assert [(o.target, o.status) for o in outcomes] == [
        (f"discord:{CHANNEL}", Status.PENDING),
        ("discord:556", Status.SENT),
    ]
    waiting = app.store.delivery(limited.target, limited.slot)
    assert waiting is not None and waiting.next_attempt_at == clock() + timedelta(seconds=120)
    assert posted_digest(fake) == [] and len(fake.channel_messages[556]) == 2

    clock.advance(119)
    assert await app.outbox.deliver_due() == []
    clock.advance(1)
    [sent] = await app.outbox.deliver_due()
    assert sent.status == Status.SENT
    assert [{"embeds": p["embeds"]} for p in posted_digest(fake)] == pages_of(limited)


# The app starts Discord from its environment


async def test_the_app_builds_discord_only_when_a_token_is_set(
    fake: FakeDiscord, deployment: Bot
) -> None:
    for env in ({}, {"DISCORD_API_BASE": fake.api_base, "DISCORD_GUILD_ID": "300"}):
        deployment.env = env
        app = deployment.open()
        try:
            assert app.platform_adapters() == []
            assert "discord" not in app.senders and "discord" not in app.outbox.senders
        finally:
            app.close()
    deployment.env = discord_env(fake)
    app = deployment.open()
    try:
        [(name, adapter)] = app.platform_adapters()
        assert name == "Discord" and isinstance(adapter, DiscordAdapter)
        assert app.senders["discord"] is adapter and app.outbox.senders["discord"] is adapter
    finally:
        app.close()
    assert fake.requests == []  # built, not started


async def test_a_running_app_serves_discord_until_stopped(
    fake: FakeDiscord, deployment: Bot
) -> None:
    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    app = deployment.open()
    running = asyncio.create_task(app.run(console=False))
    try:
        await fake.wait_for(lambda: "READY" in fake.gateway_events, timeout=10)
        assert_peskov_answer(
            await run_command(fake, fake.slash_command("quotes", {"speaker": "Peskov"}))
        )
        assert [c["name"] for c in fake.commands[GUILD]] == CANONICAL_COMMANDS
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)
        app.close()

    assert "Discord connected." in deployment.out.getvalue()
    await fake.wait_for(lambda: not fake.connected)
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_a_running_app_stops_with_a_clear_error_when_discord_is_gone_for_good(
    fake: FakeDiscord, deployment: Bot
) -> None:
    app = deployment.open()
    running = asyncio.create_task(app.run(console=False))
    try:
        async with asyncio.timeout(10):  # connected, scheduled and serving
            while "Running until Ctrl-C." not in deployment.out.getvalue():
                await asyncio.sleep(0.01)
        await fake.close_gateway(code=4004)  # authentication failed: no reconnecting from this
        with pytest.raises(StartupError, match="Discord disconnected for good"):
            await asyncio.wait_for(running, 10)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, StartupError):
            await running
        app.close()


# The real scheduler, bot.yaml, and a session Discord forgot


async def test_a_scheduled_job_fires_and_its_digest_reaches_the_channel_once(
    fake: FakeDiscord, deployment: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    schedule = digest_schedule()
    settings = replace(
        bot_settings(deployment.folder, deployment.database),
        schedules=(schedule,),
        rescan_minutes=0,
    )
    app = App(settings, env=deployment.env, clock=deployment.clock, out=deployment.out)
    running = asyncio.create_task(app.run(console=False))
    target = f"discord:{CHANNEL}"
    try:
        async with asyncio.timeout(10):  # connected, caught up on 08:00 and serving
            while "Running until Ctrl-C." not in deployment.out.getvalue():
                await asyncio.sleep(0.01)
        [caught_up] = app.store.deliveries(target=target)
        assert caught_up.slot == "newsroom@2025-03-10T08:00Z"

        deployment.clock.advance(23 * 3600 + 30)  # 08:00:30 the next morning
        assert app._scheduler is not None
        [job] = [j for j in app._scheduler.jobs() if j.id == schedule.job_id]
        job.modify(next_run_time=datetime.now(UTC))  # APScheduler fires it now, not at 08:00
        slot = "newsroom@2025-03-11T08:00Z"
        async with asyncio.timeout(10):
            while (sent := app.store.delivery(target, slot)) is None or sent.status != Status.SENT:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)
        app.close()

    # Posted once each, in order: the catch-up digest, then the one the job fired.
    posted = posted_digest(fake)
    first = len(pages_of(caught_up))
    assert len(posted) == first + len(pages_of(sent))
    for start, digest in ((0, caught_up), (first, sent)):
        title = reply_from_dict(digest.reply).title
        assert posted[start]["embeds"][0]["title"] == title
    assert marker(target, slot) in posted[-1]["embeds"][-1]["footer"]["text"]
    assert sent.attempts == 1
    # The job ran it, not the outbox tick's catch-up.
    catch_ups = [r for r in caplog.records if r.getMessage() == "catch-up digest"]
    assert [getattr(r, "slot", None) for r in catch_ups] == ["2025-03-10T08:00Z"]


async def test_the_guild_id_in_bot_yaml_reaches_the_adapter_unless_the_environment_sets_one(
    fake: FakeDiscord, deployment: Bot, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for name in ("speakers.yaml", "sources.yaml"):
        shutil.copy(CONFIG / name, config / name)
    (config / "bot.yaml").write_text(
        f"storage:\n  url: sqlite:///{deployment.database}\n"
        f"corpus:\n  paths: [{SEEDS}]\n"
        f"briefings:\n  dir: {tmp_path / 'briefings'}\n"
        "discord:\n  guild_id: 777\n",
        encoding="utf-8",
    )
    settings = load_settings(config / "bot.yaml")
    env_without_guild = {k: v for k, v in deployment.env.items() if k != "DISCORD_GUILD_ID"}

    for env, guild in ((env_without_guild, 777), (deployment.env, GUILD)):
        app = App(settings, env=env, clock=deployment.clock, out=deployment.out)
        try:
            [(_, adapter)] = app.platform_adapters()
            await asyncio.wait_for(adapter.start(), 10)
            await asyncio.wait_for(adapter.close(), 10)
        finally:
            app.close()
        put = fake.calls("PUT", "/applications/*")[-1]
        assert put.path == f"/applications/{fake.application_id}/guilds/{guild}/commands"
    assert fake.calls("PUT", f"/applications/{fake.application_id}/commands") == []


async def test_after_an_invalidated_session_the_bot_identifies_afresh_losing_nothing(
    fake: FakeDiscord, bot: DiscordAdapter, app: App
) -> None:
    fake.forget_sessions()  # Discord restarted: the session cannot be resumed
    fake.hold_gateway()
    await fake.close_gateway(code=4000)
    await fake.wait_for(lambda: fake.gateway_connections == 2)

    delivery = app.stage_digest(digest_schedule(), "2025-03-10T0800Z")  # due meanwhile
    assert [o.status for o in await app.outbox.deliver_due()] == [Status.SENT]

    fake.release_gateway()
    # discord.py waits 5 s before identifying again (Discord's identify rate limit).
    await fake.wait_for(lambda: fake.gateway_events.count("READY") == 2, timeout=20)
    ops = [f["op"] for f in fake.gateway_frames]
    assert ops.count(6) == 1 and ops.count(2) == 2  # tried to resume, then identified
    assert "RESUMED" not in fake.gateway_events
    assert fake.gateway_connections == 3  # op 9 closed the resumed connection

    assert_peskov_answer(
        await run_command(fake, fake.slash_command("quotes", {"speaker": "Peskov"}))
    )
    await app.outbox.recover()
    assert await app.outbox.deliver_due() == []
    assert app.stage_digest(digest_schedule(), "2025-03-10T0800Z").id == delivery.id
    posted = posted_digest(fake)
    assert len(posted) == len(pages_of(delivery))  # once, whole
    assert marker(delivery.target, delivery.slot) in posted[-1]["embeds"][-1]["footer"]["text"]
