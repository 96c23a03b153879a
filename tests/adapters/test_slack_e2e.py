"""The whole bot on Slack: the real registry over a seed-built SQLite archive, served by
the real Bolt AsyncApp (HTTP mode and Socket Mode), against the loopback fake Slack.
Digests go through the outbox, as `briefbot run` sends them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.slack import HTTP_PATH, SlackAdapter, SlackSettings
from bot.app import App, StartupError
from bot.config import ConfigError, Settings, load_settings
from bot.outbox import Status, marker, stamp
from bot.render.slack import render_messages
from bot.reply import Item, Reply, Section, reply_from_dict
from bot.scheduler import Schedule
from bot.store import Delivery
from tests.adapters.test_slack import (
    CHANNEL,
    LOOKALIKES,
    SECRET,
    command_payload,
    post_command,
    responses,
)
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, RESPONSE_URL, FakeSlack, block_errors

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
ARTICLES = ROOT / "tests" / "articles"
CONFIG = ROOT / "config"

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TARGET = f"slack:{CHANNEL}"
SLOT = "2025-03-10T0800Z"

PHENOMENAL = "It is phenomenal how close they are to one another"
TRUST = "An atmosphere of mutual trust takes years to achieve"
NOT_POSSIBLE = "It’s not possible to just declare that there is an atmosphere of mutual trust"
ONCE_PRINTED = (
    "They (Putin and Trump) set out the same main foreign policy principles",
    "Putin pursues consistent and flexible policy, but flexibility has limits",
    "The Kyiv regime and Zelenskyy do not want peace",
)

INJECTION_ARTICLE = """Harbour council meeting ends in uproar

By Test Reporter

LONDON (Test Wire) – The harbour council meeting ended early on Tuesday after a heated exchange.

“Tell <!channel> and <@U123> that Smith & Sons won: 3 < 4 > 2,” said Mallory Quint.

Other members declined to comment.
"""

# Look-alikes and entities the renderer uses, to read back what a Slack user sees.
_SHOWN = {"\u2217": "*", "\u02cd": "_", "\u223c": "~", "\u02cb": "`", "\u00ad": ""}


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


def http_env(slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE": slack.base_url,
    }


def socket_env(slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_BASE": slack.base_url,
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
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack-sdk reads proxy variables itself; loopback traffic must not go through one.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    await asyncio.sleep(0)  # let tasks that just finished be collected
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t for t in others if not t.done()] == []


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@dataclass
class Bot:
    """An App over a copy of the seed archive, with the environment of a Slack deployment."""

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
def deployment(slack: FakeSlack, seed_database: Path, tmp_path: Path, clock: Clock) -> Bot:
    database = tmp_path / "briefbot.db"
    copy_database(seed_database, database)
    return Bot(tmp_path, database, http_env(slack), clock, io.StringIO())


@pytest.fixture
def app(deployment: Bot) -> Iterator[App]:
    opened = deployment.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
async def http_bot(slack: FakeSlack, app: App) -> AsyncIterator[SlackAdapter]:
    """HTTP mode on a loopback port, answering with the app's real dispatcher."""
    settings = SlackSettings(
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        host="127.0.0.1",
        port=0,
        api_base=slack.base_url,
    )
    adapter = SlackAdapter(settings, app.dispatcher())
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


# Helpers


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def texts_of(body: Mapping[str, Any]) -> list[str]:
    """Every mrkdwn or plain text of a message, in order."""
    texts: list[str] = []
    for block in body["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", ()))
    return texts


def shown_text(bodies: list[Mapping[str, Any]]) -> str:
    """Roughly what a reader sees: entities and look-alikes read back, one space."""
    text = "\n".join(t for body in bodies for t in texts_of(body))
    for lookalike, plain in _SHOWN.items():
        text = text.replace(lookalike, plain)
    text = "\n".join(line.removeprefix("> ") for line in text.split("\n"))
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def assert_peskov_answer(body: Mapping[str, Any]) -> None:
    assert block_errors(body) == []
    assert body["text"] == "Dmitry Peskov: 10 statements"
    assert body["blocks"][0]["text"]["text"] == "Dmitry Peskov: 10 statements"
    texts = texts_of(body)
    repeated = texts.index("*Repeated across outlets*")
    once = texts.index("*Printed once*")
    clusters = texts[repeated + 1 : once]
    # Each cluster: its quote and detail, then its outlets, earliest first.
    assert len(clusters) == 3 * 4
    for number, opening in enumerate((PHENOMENAL, TRUST, NOT_POSSIBLE)):
        quote, *outlets = clusters[4 * number : 4 * number + 4]
        assert quote.startswith(f"> {opening}")
        assert "\nDmitry Peskov · 3 sources · first seen 2016-11-10 (Reuters)\n• " in quote
        assert outlets[0] == "Reuters"
        assert outlets[2] == "Trump: Russia’s Chance for Friendship?"
    printed_once = "\n".join(texts[once + 1 :])
    for quote in ONCE_PRINTED:
        assert f"> {quote}" in printed_once


def _as_list(blocks: str | list[Any]) -> list[Any]:
    return list(json.loads(blocks)) if isinstance(blocks, str) else blocks


def digest_schedule() -> Schedule:
    return Schedule("newsroom", "0 8 * * *", "UTC", TARGET)


def pages_of(delivery: Delivery) -> list[dict[str, Any]]:
    reply = reply_from_dict(delivery.reply)
    return render_messages(reply, ref=marker(delivery.target, delivery.slot))


def stored_digest(slack: FakeSlack) -> list[dict[str, Any]]:
    """What Slack stored in the channel, as posted."""
    return [
        {"text": body["text"], "blocks": _as_list(body["blocks"])}
        for body in slack.posted()
        if body.get("channel") == CHANNEL
    ]


# HTTP mode: slash commands over the seed archive


async def test_brief_quotes_peskov_is_acked_then_answered_with_his_clusters(
    slack: FakeSlack, http_bot: SlackAdapter
) -> None:
    status, ack_body = await post_command(http_bot, slack, "quotes Peskov")
    [body] = await responses(slack)

    assert (status, ack_body) == (200, "")
    assert body["response_type"] == "ephemeral"
    assert_peskov_answer(body)


async def test_brief_quotes_with_a_misspelt_speaker_still_finds_peskov(
    slack: FakeSlack, http_bot: SlackAdapter
) -> None:
    await post_command(http_bot, slack, "quotes Peskof --public")
    [body] = await responses(slack)

    assert body["response_type"] == "in_channel"
    assert_peskov_answer(body)


async def test_an_unknown_subcommand_gets_the_real_help(
    slack: FakeSlack, http_bot: SlackAdapter, app: App
) -> None:
    await post_command(http_bot, slack, "unknown")
    [body] = await responses(slack)

    assert body["response_type"] == "ephemeral"
    assert body["text"] == ":warning: Unknown command 'unknown'. Here is what I can do:"
    usages = [t.split("\n")[0] for t in texts_of(body)[1:]]
    assert [u.split(" ")[0] for u in usages] == [
        "quotes",
        "overlaps",
        "summary",
        "search",
        "sources",
        "speakers",
        "digest",
        "help",
    ]
    assert usages[0] == "quotes &lt;speaker&gt; [since] [topic] [limit]"
    # Every usage line reads exactly as typed (Slack shows the entities as `<` and `>`),
    # so copying an option such as min_outlets from it works.
    shown = [u.replace("&lt;", "<").replace("&gt;", ">") for u in usages]
    assert shown == [command.usage for command in app.dispatcher().registry.commands]
    assert not any(lookalike in json.dumps(body, ensure_ascii=False) for lookalike in LOOKALIKES)


@pytest.mark.parametrize("problem", ["bad signature", "stale timestamp", "future timestamp"])
async def test_an_unverified_request_gets_401_and_runs_nothing(
    slack: FakeSlack, http_bot: SlackAdapter, problem: str
) -> None:
    if problem == "bad signature":
        status, _ = await post_command(http_bot, slack, "quotes Peskov", secret="wrong-secret")
    else:
        skewed = int(time.time()) + (301 if problem == "future timestamp" else -301)
        status, _ = await post_command(http_bot, slack, "quotes Peskov", timestamp=skewed)
    # A valid command afterwards proves the server was listening, and gives the first
    # one every chance to have been answered if it had run.
    await post_command(http_bot, slack, "sources", response="r2")
    [sources] = await responses(slack, "r2")

    assert status == 401
    assert sources["text"] == "5 documents: 1 outlet, 4 with no outlet named"
    assert [r.path.rsplit("/", 1)[-1] for r in slack.calls(RESPONSE_URL)] == ["r2"]
    assert slack.calls("chat.postMessage") == slack.calls("chat.postEphemeral") == []


async def test_a_long_search_comes_in_several_messages_within_limits_losing_nothing(
    slack: FakeSlack, http_bot: SlackAdapter, app: App
) -> None:
    app.ingest((ARTICLES,))
    expected = app.dispatcher().run("search", {"text": "the", "limit": "100"})
    items = [item for section in expected.sections for item in section.items]
    parts = len(render_messages(expected))
    assert len(items) > 20 and 1 < parts <= 5

    await post_command(http_bot, slack, "search the limit:100")
    bodies = await responses(slack, count=parts)

    assert len(bodies) == parts
    assert [b["text"] for b in bodies] == [
        f"Search for 'the' (part {n} of {parts})" for n in range(1, parts + 1)
    ]
    assert all(block_errors(b) == [] for b in bodies)
    assert all(r.ok for r in slack.calls(RESPONSE_URL))
    shown = shown_text(bodies)
    position = 0
    for item in items:  # every item, whole and in order
        found = shown.find(" ".join(item.text.split()), position)
        assert found >= 0, item.text
        position = found
        assert " ".join(item.detail.split()) in shown
    assert " ".join(items[-1].text.split()) in shown_text(bodies[-1:])


async def test_mentions_and_markup_from_an_article_reach_slack_escaped(
    slack: FakeSlack, http_bot: SlackAdapter, app: App, tmp_path: Path
) -> None:
    report = app.ingest((write_article(tmp_path / "new", "harbour.txt", INJECTION_ARTICLE),))
    assert len(report.result.added) == 1

    await post_command(http_bot, slack, "quotes Mallory Quint --public")
    [body] = await responses(slack)

    quote = "> Tell &lt;!channel&gt; and &lt;@U123&gt; that Smith &amp; Sons won: 3 &lt; 4 &gt; 2"
    assert body == {
        "text": "Mallory Quint: 1 statement",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "Mallory Quint: 1 statement", "emoji": True},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Printed once*", "verbatim": True},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{quote}\nundated, ingested 2025-03-10",
                    "verbatim": True,
                },
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Test Wire", "verbatim": True}],
            },
        ],
        "response_type": "in_channel",
    }
    payload = json.dumps(body, ensure_ascii=False)
    for live in ("<!channel>", "<@U123>", "& Sons", "3 < 4 > 2"):
        assert live not in payload


# Scheduled digests through the outbox


def slack_sender_app(app: App) -> SlackAdapter:
    """The Slack adapter as `App` builds it from the environment (not started: digests
    need only the Web API)."""
    [(name, adapter)] = app.platform_adapters()
    assert name == "Slack" and isinstance(adapter, SlackAdapter)
    assert app.outbox.senders["slack"] is adapter.sender
    return adapter


async def test_a_rate_limited_digest_waits_and_is_stored_once(slack: FakeSlack, app: App) -> None:
    slack_sender_app(app)
    slack.fail("chat.postMessage", status=429, retry_after=1)
    delivery = app.stage_digest(digest_schedule(), SLOT)

    outcomes = await app.outbox.deliver_due()

    assert [(o.target, o.status) for o in outcomes] == [(TARGET, Status.SENT)]
    limited, retried, *_ = slack.calls("chat.postMessage")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 1.0  # Retry-After: 1 was honoured
    stored = stored_digest(slack)
    assert stored == pages_of(delivery)
    assert stored[0]["text"].startswith("briefbot digest: everything so far")
    assert marker(TARGET, SLOT) in json.dumps(stored[-1]["blocks"][-1])
    assert await app.outbox.deliver_due() == []
    assert stored_digest(slack) == stored


async def crash_after_posting(slack: FakeSlack, deployment: Bot) -> Delivery:
    """Deliver a digest, and stop the process once Slack has stored every message but
    before the bot hears back: the outbox is left with the digest "sending"."""
    app = deployment.open()
    try:
        slack_sender_app(app)
        delivery = app.stage_digest(digest_schedule(), SLOT)
        pages = len(pages_of(delivery))
        slack.hold_answer("chat.postMessage", after=pages - 1)
        delivering = asyncio.create_task(app.outbox.deliver_due())
        await slack.wait_until(lambda: len(slack.posted()) == pages)
        unconfirmed = app.store.delivery(TARGET, SLOT)
        assert unconfirmed is not None and unconfirmed.status == Status.SENDING
        delivering.cancel()  # the crash
        with contextlib.suppress(asyncio.CancelledError):
            await delivering
        return delivery
    finally:
        app.close()
        slack.release()


async def test_a_crash_after_posting_is_settled_on_restart_without_posting_again(
    slack: FakeSlack, deployment: Bot
) -> None:
    delivery = await crash_after_posting(slack, deployment)

    restarted = deployment.open()
    try:
        slack_sender_app(restarted)
        await restarted.outbox.recover()
        settled = restarted.store.delivery(TARGET, SLOT)
        assert settled is not None and settled.status == Status.SENT
        assert await restarted.outbox.deliver_due() == []
    finally:
        restarted.close()

    assert len(slack.calls("conversations.history")) == 1
    assert stored_digest(slack) == pages_of(delivery)


async def test_without_the_history_scope_an_unconfirmed_part_is_resent_not_lost(
    slack: FakeSlack, deployment: Bot
) -> None:
    delivery = await crash_after_posting(slack, deployment)
    slack.history_allowed = False

    restarted = deployment.open()
    try:
        slack_sender_app(restarted)
        await restarted.outbox.recover()
        [outcome] = await restarted.outbox.deliver_due()
    finally:
        restarted.close()

    assert outcome.status == Status.SENT
    pages = pages_of(delivery)
    # The parts recorded as accepted are not posted again; the last, whose answer the
    # crash cut off, is posted twice rather than never.
    assert stored_digest(slack) == pages + pages[-1:]


LONG_SLOT = "newsroom@2025-03-10T08:00Z"


def stage_long_digest(app: App) -> Delivery:
    """A digest of more than two messages (the seed digest takes two)."""
    items = tuple(Item(text=f"story {i}: " + "text " * 500) for i in range(12))
    reply = Reply(title="briefbot digest", sections=(Section(items=items),))
    delivery = app.outbox.stage(
        target=TARGET,
        slot=LONG_SLOT,
        window_start=None,
        window_end=NOW,
        reply=stamp(reply, target=TARGET, slot=LONG_SLOT),
        markdown="",
    )
    assert len(pages_of(delivery)) >= 3
    return delivery


async def test_a_digest_whose_second_part_fails_goes_out_whole_once_in_order(
    slack: FakeSlack, app: App, clock: Clock
) -> None:
    slack_sender_app(app)
    slack.fail("chat.postMessage", status=503, error="service_unavailable", after=1)
    delivery = stage_long_digest(app)

    [failed] = await app.outbox.deliver_due()
    assert failed.status == Status.SENDING  # a 5xx: Slack may have stored part 2
    assert len(stored_digest(slack)) == 1
    clock.advance(3600)
    [sent] = await app.outbox.deliver_due()

    assert sent.status == Status.SENT
    pages = pages_of(delivery)
    assert stored_digest(slack) == pages  # every part once, in order
    marks = [json.dumps(page["blocks"][-1], ensure_ascii=False) for page in stored_digest(slack)]
    ref = marker(TARGET, LONG_SLOT)
    assert all(f"{ref} · part {n} of {len(pages)}" in m for n, m in enumerate(marks, 1))


async def test_after_a_crash_once_part_1_was_accepted_a_restart_posts_only_the_rest(
    slack: FakeSlack, deployment: Bot
) -> None:
    app = deployment.open()
    try:
        slack_sender_app(app)
        delivery = stage_long_digest(app)
        slack.hold_answer("chat.postMessage")  # part 1 stored, the answer held back
        delivering = asyncio.create_task(app.outbox.deliver_due())
        await slack.wait_until(lambda: len(slack.posted()) == 1)
        delivering.cancel()  # the crash
        with contextlib.suppress(asyncio.CancelledError):
            await delivering
    finally:
        app.close()
        slack.release()

    restarted = deployment.open()
    try:
        slack_sender_app(restarted)
        await restarted.outbox.recover()
        [outcome] = await restarted.outbox.deliver_due()
    finally:
        restarted.close()

    assert outcome.status == Status.SENT
    assert stored_digest(slack) == pages_of(delivery)
    assert len(slack.calls("chat.postMessage")) == len(pages_of(delivery))


async def test_a_part_stored_before_the_connection_dropped_is_not_posted_twice(
    slack: FakeSlack, app: App, clock: Clock
) -> None:
    slack_sender_app(app)
    slack.drop_answer("chat.postMessage", after=1)  # part 2 is stored, then the line drops
    delivery = stage_long_digest(app)

    [failed] = await app.outbox.deliver_due()
    assert failed.status == Status.SENDING
    assert len(slack.calls("chat.postMessage")) == 2  # the SDK did not post it again
    clock.advance(3600)
    [sent] = await app.outbox.deliver_due()

    assert sent.status == Status.SENT
    assert stored_digest(slack) == pages_of(delivery)


# Socket Mode


async def test_socket_mode_acks_the_envelope_and_answers_at_response_url(
    slack: FakeSlack, app: App
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_base=slack.base_url)
    adapter = SlackAdapter(settings, app.dispatcher())
    await adapter.start()
    try:
        assert adapter.mode == "socket" and adapter.port is None
        await slack.send_envelope(command_payload(slack, "quotes Peskov"), envelope_id="env-e2e")
        await slack.wait_until(lambda: any(a.get("envelope_id") == "env-e2e" for a in slack.acks))
        [body] = await responses(slack)
    finally:
        await adapter.close()

    assert [a["envelope_id"] for a in slack.acks] == ["env-e2e"]
    assert_peskov_answer(body)


# The app starts Slack from its environment


async def test_the_app_builds_slack_only_when_its_tokens_are_set(
    slack: FakeSlack, deployment: Bot
) -> None:
    for env, mode in ((http_env(slack), "http"), (socket_env(slack), "socket")):
        deployment.env = env
        app = deployment.open()
        try:
            adapter = slack_sender_app(app)
            assert adapter.mode == mode
            assert adapter.settings.command == "/brief" and not adapter.settings.reply_in_channel
        finally:
            app.close()
    deployment.env = {"SLACK_API_BASE": slack.base_url, "SLACK_SIGNING_SECRET": SECRET}
    app = deployment.open()
    try:
        assert app.platform_adapters() == [] and "slack" not in app.outbox.senders
    finally:
        app.close()
    assert slack.requests == []  # built, not started


async def test_a_running_app_serves_slack_in_socket_mode_until_stopped(
    slack: FakeSlack, deployment: Bot
) -> None:
    deployment.env = socket_env(slack)
    app = deployment.open()
    running = asyncio.create_task(app.run(console=False))
    try:
        await slack.wait_until(lambda: bool(slack.calls("apps.connections.open")), timeout=10)
        await slack.send_envelope(command_payload(slack, "quotes Peskov"), envelope_id="env-run")
        await slack.wait_until(lambda: any(a.get("envelope_id") == "env-run" for a in slack.acks))
        [body] = await responses(slack)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 10)
        app.close()

    assert_peskov_answer(body)
    assert "Slack connected." in deployment.out.getvalue()
    assert [a["envelope_id"] for a in slack.acks] == ["env-run"]


async def test_a_running_app_stops_loudly_when_slack_refuses_to_reconnect(
    slack: FakeSlack, deployment: Bot
) -> None:
    deployment.env = socket_env(slack)
    app = deployment.open()
    running = asyncio.create_task(app.run(console=False))
    try:
        await slack.wait_until(lambda: slack.connections == 1, timeout=10)
        slack.app_token = "xapp-revoked"
        await slack.drop_sockets()
        with pytest.raises(StartupError, match=r"Slack disconnected for good .*invalid_auth"):
            await asyncio.wait_for(running, 10)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError, StartupError):
            await running
        app.close()

    assert "Slack connected." in deployment.out.getvalue()


# The HTTP address comes from config/bot.yaml


async def test_the_app_serves_http_mode_on_the_configured_host_and_path(
    slack: FakeSlack, deployment: Bot
) -> None:
    settings = replace(
        bot_settings(deployment.folder, deployment.database),
        slack_host="127.0.0.1",
        slack_port=0,
        slack_path="/hooks/brief",
    )
    app = App(settings, env=http_env(slack), clock=deployment.clock, out=deployment.out)
    try:
        [(_, adapter)] = app.platform_adapters()
        await adapter.start()
        try:
            await post_command(adapter, slack, "sources")
            [body] = await responses(slack)
        finally:
            await adapter.close()
    finally:
        app.close()

    assert (adapter.settings.host, adapter.settings.path) == ("127.0.0.1", "/hooks/brief")
    assert body["text"].startswith("5 documents")  # the sources command answered


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("host", "http://0.0.0.0"),
        ("host", "0.0.0.0 3000"),
        ("path", "slack/events"),
        ("path", "/slack events"),
    ],
)
def test_a_bad_slack_host_or_path_in_the_config_is_refused_by_name(
    tmp_path: Path, key: str, value: str
) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text(yaml.safe_dump({"slack": {key: value}}), encoding="utf-8")

    with pytest.raises(ConfigError, match=f"slack.{key}: .*Fix: ") as raised:
        load_settings(config)

    assert raised.value.key == f"slack.{key}"


def test_the_shipped_config_names_the_default_host_and_path() -> None:
    settings = load_settings(CONFIG / "bot.yaml")

    assert (settings.slack_host, settings.slack_path) == ("0.0.0.0", HTTP_PATH)


# The app manifest


def test_the_manifest_matches_what_the_bot_serves() -> None:
    text = (CONFIG / "slack-manifest.yaml").read_text(encoding="utf-8")
    manifest = yaml.safe_load(text)
    settings = load_settings(CONFIG / "bot.yaml")

    assert manifest["display_information"]["name"] == "briefbot"
    assert manifest["features"]["bot_user"]["display_name"] == "briefbot"
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == settings.slack_command == "/brief"
    assert command["usage_hint"] and command["description"]
    assert len(command["description"]) <= 100 and len(command["usage_hint"]) <= 100
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert (
        {"commands", "chat:write"} <= set(scopes) <= {"commands", "chat:write", "channels:history"}
    )
    assert manifest["settings"]["socket_mode_enabled"] is True
    # The comment on switching to HTTP mode names the path the adapter serves.
    assert "socket_mode_enabled: false" in text and f"{HTTP_PATH}\n" in text
