"""The Slack adapter with the real Bolt app and slack-sdk, against a loopback fake of Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import SlackAdapter, SlackDisconnected, SlackSender, SlackSettings
from bot.commands import Command, Dispatcher, Param, ParamKind, Registry, help_reply
from bot.delivery import DeliveryError, Progress, Seen
from bot.reply import Item, Link, Reply, Section
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    RESPONSE_URL,
    TEAM_ID,
    FakeSlack,
    block_errors,
)

SECRET = "test-signing-secret-8f14e45f"
CHANNEL = "C0NEWSDESK"
USER = "U0ALICE"
MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<@U123>")
LOOKALIKES = ("\u2217", "\u02cd", "\u223c", "\u02cb")  # what the renderer swaps markers for

PESKOV = (
    Item(
        text="An atmosphere of mutual trust takes years to achieve",
        detail="Dmitry Peskov, Kremlin spokesman",
        links=(Link("Press TV", "https://www.presstv.ir/Detail/2016/11/10/493"),),
        quoted=True,
    ),
)
MALLORY = (
    Item(
        text="Hello " + " ".join(MENTIONS) + ", *everyone* ```look```",
        detail="<!here> Mallory",
        links=(Link("<!channel>", "https://evil.example/<!channel>"),),
        quoted=True,
    ),
)


class Handlers:
    """Small handlers in the shape of the real registry; they record what they were asked."""

    def __init__(self, *, search_hits: int = 3) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []
        self.search_hits = search_hits
        self.digest_gate = threading.Event()

    def _record(self, name: str, args: Mapping[str, object]) -> None:
        self.calls.append((name, dict(args)))

    def quotes(self, _: None, args: Mapping[str, object]) -> Reply:
        self._record("quotes", args)
        speaker = str(args["speaker"])
        items = {"Peskov": PESKOV, "Mallory": MALLORY}.get(speaker, ())
        if speaker == "Crash":
            raise RuntimeError("database is gone")
        return Reply(title=f"Quotes by {speaker}", sections=(Section(items=items),))

    def search(self, _: None, args: Mapping[str, object]) -> Reply:
        self._record("search", args)
        items = tuple(
            Item(text=f"hit {i}: " + f"{args['text']} " * 150, links=(Link(f"Outlet {i}"),))
            for i in range(self.search_hits)
        )
        return Reply(title=f"Search: {args['text']}", sections=(Section(items=items),))

    def digest(self, _: None, args: Mapping[str, object]) -> Reply:
        """Blocks its thread until the test opens the gate, like a slow database query."""
        self._record("digest", args)
        opened = self.digest_gate.wait(timeout=5)
        return Reply(title="Digest" if opened else "Digest gave up waiting")

    def other(self, name: str) -> Any:
        def handler(_: None, args: Mapping[str, object]) -> Reply:
            self._record(name, args)
            return Reply(title=name)

        return handler


def build_dispatcher(handlers: Handlers) -> Dispatcher[None]:
    holder: list[Registry[None]] = []

    def show_help(_: None, args: Mapping[str, object]) -> Reply:
        handlers._record("help", args)
        return help_reply(holder[0])

    date = ParamKind.DATE
    registry = Registry[None](
        commands=(
            Command(
                "quotes",
                "Quotes by a speaker",
                handlers.quotes,
                (
                    Param("speaker", "Who said it", required=True),
                    Param("since", "From this date", kind=date),
                    Param("topic", "About what"),
                ),
            ),
            Command(
                "overlaps",
                "Quotes repeated across outlets",
                handlers.other("overlaps"),
                (Param("min_outlets", "At least this many outlets", kind=ParamKind.INT),),
            ),
            Command(
                "summary",
                "Summary of a document",
                handlers.other("summary"),
                (Param("document", "Which document"),),
            ),
            Command("search", "Search quotes", handlers.search, (Param("text", "Words"),)),
            Command("sources", "Outlets", handlers.other("sources")),
            Command("speakers", "Known speakers", handlers.other("speakers")),
            Command(
                "digest",
                "The digest",
                handlers.digest,
                (Param("since", "From this date", kind=date),),
            ),
            Command("help", "What I can do", show_help),
        )
    )
    holder.append(registry)
    return Dispatcher(registry=registry, context=lambda: None)


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
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    for secret in (BOT_TOKEN, APP_TOKEN, SECRET):
        assert secret not in caplog.text


def http_settings(slack: FakeSlack, **options: Any) -> SlackSettings:
    options = {"host": "127.0.0.1", "port": 0, **options}
    return SlackSettings(
        bot_token=BOT_TOKEN, signing_secret=SECRET, api_base=slack.base_url, **options
    )


@asynccontextmanager
async def running(settings: SlackSettings, handlers: Handlers) -> AsyncIterator[SlackAdapter]:
    adapter = SlackAdapter(settings, build_dispatcher(handlers))
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


def command_payload(
    slack: FakeSlack, text: str, *, response: str = "r1", command: str = "/brief"
) -> dict[str, str]:
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "newsroom",
        "channel_id": CHANNEL,
        "channel_name": "newsdesk",
        "user_id": USER,
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "A0BRIEFBOT",
        "response_url": slack.response_url(response),
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


async def post_command(
    adapter: SlackAdapter,
    slack: FakeSlack,
    text: str,
    *,
    response: str = "r1",
    command: str = "/brief",
    secret: str = SECRET,
    timestamp: int | None = None,
) -> tuple[int, str]:
    """A real, signed, form-encoded slash-command POST, as Slack sends it."""
    body = urlencode(command_payload(slack, text, response=response, command=command))
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    url = f"http://127.0.0.1:{adapter.port}{adapter.settings.path}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def responses(slack: FakeSlack, name: str = "r1", *, count: int = 1) -> list[Any]:
    """Wait for `count` posts to one response_url and return their bodies."""

    def posts() -> list[Any]:
        return [r.body for r in slack.calls(RESPONSE_URL) if r.path.endswith(f"/{name}")]

    await slack.wait_until(lambda: len(posts()) >= count)
    return posts()


def block_text(body: Mapping[str, Any]) -> str:
    return json.dumps(body["blocks"], ensure_ascii=False)


def texts(body: Mapping[str, Any]) -> list[str]:
    """Every text of a message's blocks, in order."""
    found: list[str] = []
    for block in body["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(element["text"] for element in block.get("elements", ()))
    return found


def parts_of(body: Mapping[str, Any]) -> int:
    """N from the fallback's "(part n of N)"."""
    return int(body["text"].rsplit(" ", 1)[-1].rstrip(")"))


# -- HTTP mode ------------------------------------------------------------------------


async def test_a_signed_command_is_answered_through_response_url(
    slack: FakeSlack, handlers: Handlers, quiet_logs: pytest.LogCaptureFixture
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        status, ack_body = await post_command(adapter, slack, "quotes Peskov since:2016-11-01")
        [body] = await responses(slack)

    assert (status, ack_body) == (200, "")
    assert body["response_type"] == "ephemeral"
    assert body["text"] == "Quotes by Peskov"
    assert "An atmosphere of mutual trust takes years to achieve" in block_text(body)
    assert "<https://www.presstv.ir/Detail/2016/11/10/493|Press TV>" in block_text(body)
    assert block_errors(body) == []
    assert handlers.calls == [("quotes", {"speaker": "Peskov", "since": date(2016, 11, 1)})]
    assert slack.calls("auth.test")
    api_calls = [r for r in slack.requests if r.method != RESPONSE_URL]
    assert all(r.headers["Authorization"] == f"Bearer {BOT_TOKEN}" for r in api_calls)


async def test_a_bad_signature_gets_401_and_runs_nothing(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        status, _ = await post_command(adapter, slack, "quotes Peskov", secret="wrong-secret")
        # A valid command afterwards proves the server was listening, and gives the first
        # one every chance to have run if it were going to.
        await post_command(adapter, slack, "sources", response="r2")
        await responses(slack, "r2")

    assert status == 401
    assert handlers.calls == [("sources", {})]
    assert all(r.path.endswith("/r2") for r in slack.calls(RESPONSE_URL))


@pytest.mark.parametrize("offset", [-301, 301], ids=["in the past", "in the future"])
async def test_a_timestamp_over_five_minutes_off_gets_401_and_runs_nothing(
    slack: FakeSlack, handlers: Handlers, offset: int
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        skewed = int(time.time()) + offset
        status, _ = await post_command(adapter, slack, "quotes Peskov", timestamp=skewed)
        await post_command(adapter, slack, "sources", response="r2")
        await responses(slack, "r2")

    assert status == 401
    assert handlers.calls == [("sources", {})]
    assert all(r.path.endswith("/r2") for r in slack.calls(RESPONSE_URL))


async def test_ack_comes_at_once_while_the_handler_runs_off_the_event_loop(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        status, _ = await post_command(adapter, slack, "digest")  # the handler is still blocked
        assert status == 200
        assert slack.calls(RESPONSE_URL) == []
        handlers.digest_gate.set()
        [body] = await responses(slack)

    assert body["text"] == "Digest"


async def test_an_unknown_subcommand_gets_help(slack: FakeSlack, handlers: Handlers) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "frobnicate Peskov --public")
        [body] = await responses(slack)

    assert handlers.calls == []
    assert body["response_type"] == "ephemeral"  # help for a typo is for its author only
    assert "Unknown command" in body["text"]
    for usage in ("quotes &lt;speaker&gt; [since] [topic]", "overlaps [min_outlets]", "digest"):
        assert usage in block_text(body)
    assert not any(lookalike in block_text(body) for lookalike in LOOKALIKES)


async def test_an_option_copied_from_the_help_is_accepted(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "help")
        [shown] = await responses(slack)
        [usage] = [t for t in texts(shown) if t.startswith("overlaps ")]
        option = usage.split("[", 1)[1].split("]", 1)[0]  # what a user would copy
        await post_command(adapter, slack, f"overlaps {option}:3", response="r2")
        [answer] = await responses(slack, "r2")

    assert option == "min_outlets"
    assert answer["text"] == "overlaps"
    assert handlers.calls[-1] == ("overlaps", {"min_outlets": 3})


async def test_an_empty_command_gets_help(slack: FakeSlack, handlers: Handlers) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "")
        [body] = await responses(slack)

    assert body["text"] == "briefbot commands"
    assert "search [text]" in block_text(body)


async def test_a_long_reply_arrives_in_several_posts_each_within_limits(
    slack: FakeSlack,
) -> None:
    handlers = Handlers(search_hits=12)
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "search Augean stables")
        await slack.wait_until(lambda: bool(slack.calls(RESPONSE_URL)))
        parts = int(slack.calls(RESPONSE_URL)[0].body["text"].rsplit(" ", 1)[-1].rstrip(")"))
        bodies = await responses(slack, count=parts)

    assert 1 < parts <= 5
    assert [b["text"] for b in bodies] == [
        f"Search: Augean stables (part {n} of {parts})" for n in range(1, parts + 1)
    ]
    assert all(block_errors(b) == [] for b in bodies)
    assert all(r.ok for r in slack.calls(RESPONSE_URL))
    everything = "".join(block_text(b) for b in bodies)
    for i in range(12):
        assert f"hit {i}: " in everything
    assert everything.count("Augean stables") == 12 * 150 + 1  # and once in the header


@pytest.mark.parametrize(
    ("flag", "method", "response_type"),
    [("", "chat.postEphemeral", "ephemeral"), (" --public", "chat.postMessage", "in_channel")],
)
async def test_a_reply_longer_than_five_posts_continues_through_the_web_api(
    slack: FakeSlack, flag: str, method: str, response_type: str
) -> None:
    handlers = Handlers(search_hits=80)
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "search Augean stables" + flag)
        [first, *_] = await responses(slack, count=4)
        total = parts_of(first)
        await slack.wait_until(lambda: len(slack.posted(method)) == total - 4)

    assert total > 5
    bodies = [r.body for r in slack.calls(RESPONSE_URL)]
    assert [b["text"] for b in bodies] == [
        f"Search: Augean stables (part {n} of {total})" for n in range(1, 5)
    ]
    assert all(b["response_type"] == response_type for b in bodies)
    for number, body in enumerate(slack.posted(method), start=5):
        assert body["channel"] == CHANNEL
        assert body.get("user") == (None if flag else USER)
        assert body["text"] == f"Search: Augean stables (part {number} of {total})"
        assert block_errors(body) == []
    everything = "".join(block_text(b) for b in [*bodies, *slack.posted(method)])
    assert all(f"hit {i}: " in everything for i in range(80))


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
@pytest.mark.parametrize(
    ("flag", "method"), [("", "chat.postEphemeral"), (" --public", "chat.postMessage")]
)
async def test_when_slack_refuses_the_rest_of_a_long_reply_the_asker_is_told(
    slack: FakeSlack, error: str, flag: str, method: str
) -> None:
    slack.keep_out(CHANNEL, error=error)  # a DM, a private channel, one the bot never joined
    async with running(http_settings(slack), Handlers(search_hits=80)) as adapter:
        await post_command(adapter, slack, "search Augean stables" + flag)
        bodies = await responses(slack, count=5)

    total = parts_of(bodies[0])
    *parts, notice = bodies
    assert [parts_of(b) for b in parts] == [total] * 4
    assert [r.status for r in slack.calls(method)] == [200]  # tried once, not for each part
    assert slack.posted(method) == []
    assert notice["response_type"] == "ephemeral"
    assert notice["text"] == ":warning: The rest of this answer could not be posted here."
    told = " ".join(texts(notice))
    assert f"Parts 5 to {total} were refused ({error})" in told
    assert "/invite @briefbot" in told and "limit:" in told
    assert block_errors(notice) == []


async def test_when_slack_refuses_part_of_the_rest_the_notice_names_what_is_missing(
    slack: FakeSlack,
) -> None:
    slack.fail(
        "chat.postEphemeral", status=200, error="channel_not_found", after=2, retry_after=None
    )
    async with running(http_settings(slack), Handlers(search_hits=80)) as adapter:
        await post_command(adapter, slack, "search Augean stables")
        *parts, notice = await responses(slack, count=5)

    total = parts_of(parts[0])
    assert [parts_of(b) for b in slack.posted("chat.postEphemeral")] == [total, total]
    assert f"Parts 7 to {total} were refused (channel_not_found)" in " ".join(texts(notice))


async def test_a_rate_limited_continuation_waits_retry_after_and_loses_nothing(
    slack: FakeSlack,
) -> None:
    slack.fail("chat.postEphemeral", status=429, retry_after=1)
    async with running(http_settings(slack), Handlers(search_hits=80)) as adapter:
        await post_command(adapter, slack, "search Augean stables")
        [first, *_] = await responses(slack, count=4)
        total = parts_of(first)
        await slack.wait_until(
            lambda: len(slack.posted("chat.postEphemeral")) == total - 4, timeout=10
        )

    limited, retried, *_ = slack.calls("chat.postEphemeral")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 1.0  # Retry-After: 1 was honoured
    assert retried.body["text"].endswith(f"(part 5 of {total})")
    assert len(slack.calls(RESPONSE_URL)) == 4  # no notice: nothing was lost


async def test_article_text_in_a_reply_mentions_no_one(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "quotes Mallory --public")
        [body] = await responses(slack)

    payload = json.dumps(body, ensure_ascii=False)
    for mention in MENTIONS:
        assert mention not in payload
    assert body["response_type"] == "in_channel"
    assert "Hello &lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt;" in payload
    assert "<https://evil.example/%3C!channel%3E|&lt;!channel&gt;>" in payload
    assert "*everyone*" not in payload and "```" not in payload


@pytest.mark.parametrize(
    ("in_channel_by_default", "text", "expected"),
    [
        (False, "quotes Peskov --public", "in_channel"),
        (False, "quotes --public Peskov", "in_channel"),
        (False, "quotes Peskov", "ephemeral"),
        (True, "quotes Peskov", "in_channel"),
        (True, "quotes Peskov --private", "ephemeral"),
    ],
)
async def test_visibility_follows_the_flag_and_the_default(
    slack: FakeSlack, handlers: Handlers, in_channel_by_default: bool, text: str, expected: str
) -> None:
    settings = http_settings(slack, reply_in_channel=in_channel_by_default)
    async with running(settings, handlers) as adapter:
        await post_command(adapter, slack, text)
        [body] = await responses(slack)

    assert body["response_type"] == expected
    assert handlers.calls == [("quotes", {"speaker": "Peskov"})]  # the flag is not an argument


async def test_a_configured_command_name_is_the_one_served(
    slack: FakeSlack, handlers: Handlers
) -> None:
    settings = http_settings(slack, command="/news")
    async with running(settings, handlers) as adapter:
        status, _ = await post_command(adapter, slack, "sources")  # sent as /brief: not ours
        assert status == 404
        await post_command(adapter, slack, "sources", command="/news")
        [body] = await responses(slack)

    assert body["text"] == "sources"
    assert handlers.calls == [("sources", {})]


async def test_bad_input_and_a_crashing_handler_get_a_private_answer(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "quotes Peskov since:yesterday --public")
        [bad_date] = await responses(slack)
        await post_command(adapter, slack, "quotes Crash --public", response="r2")
        [crash] = await responses(slack, "r2")

    assert bad_date["response_type"] == "ephemeral"
    assert bad_date["blocks"][0]["text"]["text"] == (
        ":warning: `since` must be a date like 2016-11-10, not 'yesterday'."
    )
    assert crash["response_type"] == "ephemeral"
    assert "Sorry, something went wrong" in crash["text"]
    assert "database is gone" not in json.dumps(crash)


async def test_command_text_arrives_unescaped_at_the_dispatcher(
    slack: FakeSlack, handlers: Handlers
) -> None:
    async with running(http_settings(slack), handlers) as adapter:
        await post_command(adapter, slack, "search AT&amp;T &lt;merger&gt;")
        await responses(slack)

    assert handlers.calls == [("search", {"text": "AT&T <merger>"})]


# -- Socket Mode ----------------------------------------------------------------------


async def test_socket_mode_acks_the_envelope_and_answers_through_response_url(
    slack: FakeSlack, handlers: Handlers, quiet_logs: pytest.LogCaptureFixture
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_base=slack.base_url)
    async with running(settings, handlers) as adapter:
        assert adapter.mode == "socket" and adapter.port is None
        await slack.send_envelope(command_payload(slack, "quotes Peskov"), envelope_id="env-42")
        await slack.wait_until(lambda: any(a.get("envelope_id") == "env-42" for a in slack.acks))
        [body] = await responses(slack)

    [opened] = slack.calls("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert [a["envelope_id"] for a in slack.acks] == ["env-42"]
    assert "An atmosphere of mutual trust takes years to achieve" in block_text(body)
    assert handlers.calls == [("quotes", {"speaker": "Peskov"})]


async def test_socket_mode_survives_a_dropped_connection(
    slack: FakeSlack, handlers: Handlers
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_base=slack.base_url)
    async with running(settings, handlers) as adapter:
        watching = asyncio.create_task(adapter.wait_closed())
        await slack.drop_sockets()  # Slack restarts a server: the SDK reconnects
        await slack.wait_until(lambda: slack.connections == 2)
        await slack.send_envelope(command_payload(slack, "quotes Peskov"), envelope_id="env-2")
        await slack.wait_until(lambda: bool(slack.acks))
        [body] = await responses(slack)
        assert not watching.done()
    await asyncio.wait_for(watching, 5)  # and returns, without an error, once closed

    assert "An atmosphere of mutual trust" in block_text(body)
    assert [a["envelope_id"] for a in slack.acks] == ["env-2"]


async def test_socket_mode_ends_for_good_when_slack_refuses_the_app_token(
    slack: FakeSlack, handlers: Handlers, quiet_logs: pytest.LogCaptureFixture
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_base=slack.base_url)
    async with running(settings, handlers) as adapter:
        watching = asyncio.create_task(adapter.wait_closed())
        slack.app_token = "xapp-rotated"  # the app token was revoked
        await slack.drop_sockets()
        with pytest.raises(SlackDisconnected, match="invalid_auth"):
            await asyncio.wait_for(watching, 10)

    assert [r.ok for r in slack.calls("apps.connections.open")][:2] == [True, False]


async def test_a_start_retried_after_a_refusal_is_watched_afresh(
    slack: FakeSlack, handlers: Handlers
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_base=slack.base_url)
    adapter = SlackAdapter(settings, build_dispatcher(handlers))
    slack.fail("apps.connections.open", status=200, error="invalid_auth", retry_after=None)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await adapter.start()
    await adapter.start()  # what the app does when a platform comes back
    try:
        watching = asyncio.create_task(adapter.wait_closed())
        await slack.send_envelope(command_payload(slack, "sources"), envelope_id="env-3")
        await slack.wait_until(lambda: bool(slack.acks))
        await responses(slack)
        assert not watching.done()  # the earlier refusal is not held against the new link
    finally:
        await adapter.close()
    await asyncio.wait_for(watching, 1)


async def test_wait_closed_returns_at_once_before_start_and_after_close_in_http_mode(
    slack: FakeSlack, handlers: Handlers
) -> None:
    adapter = SlackAdapter(http_settings(slack), build_dispatcher(handlers))
    await asyncio.wait_for(adapter.wait_closed(), 1)
    await adapter.start()
    watching = asyncio.create_task(adapter.wait_closed())
    await post_command(adapter, slack, "sources")
    await responses(slack)
    assert not watching.done()  # serving
    await adapter.close()

    await asyncio.wait_for(watching, 1)


async def test_a_configured_host_and_path_are_served(slack: FakeSlack, handlers: Handlers) -> None:
    settings = http_settings(slack, host="127.0.0.1", path="/hooks/briefbot")
    async with running(settings, handlers) as adapter:
        await post_command(adapter, slack, "sources")
        [body] = await responses(slack)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        async with aiohttp.ClientSession() as session, session.post(url, data="") as default:
            assert default.status == 404

    assert body["text"] == "sources"


async def test_a_bad_bot_token_fails_to_start(slack: FakeSlack, handlers: Handlers) -> None:
    settings = replace(http_settings(slack), bot_token="xoxb-wrong")
    adapter = SlackAdapter(settings, build_dispatcher(handlers))
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await adapter.start()
    assert adapter.port is None


async def test_socket_mode_with_a_bad_app_token_fails_to_start(
    slack: FakeSlack, handlers: Handlers
) -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token="xapp-wrong", api_base=slack.base_url)
    adapter = SlackAdapter(settings, build_dispatcher(handlers))
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await adapter.start()  # and leaves no task behind (see no_leftover_tasks)


# -- scheduled digests: the Sender --------------------------------------------------

MARKER = "ref 0123abcd45"


def long_digest() -> Reply:
    items = tuple(Item(text=f"story {i}: " + "text " * 500) for i in range(12))
    return Reply(title="Morning digest", sections=(Section(items=items),), footnote=MARKER)


class Accepted:
    """What the outbox would record: the parts accepted so far, after each one."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def progress(self, done: int = 0) -> Progress:
        return Progress(ref=MARKER, done=done, accepted=self.counts.append)


def marks(bodies: list[Mapping[str, Any]]) -> list[str]:
    """The text each message ends with: its last context element."""
    return [_as_list(b["blocks"])[-1]["elements"][-1]["text"] for b in bodies]


def _as_list(blocks: str | list[Any]) -> list[Any]:
    return json.loads(blocks) if isinstance(blocks, str) else blocks


async def test_a_digest_is_posted_in_order_through_the_sender(slack: FakeSlack) -> None:
    adapter = SlackAdapter(http_settings(slack), build_dispatcher(Handlers()))
    accepted = Accepted()

    await adapter.sender.send(CHANNEL, long_digest(), accepted.progress())

    posted = slack.posted()
    parts = len(posted)
    assert adapter.sender.platform == "slack"
    assert parts > 2
    assert [p["text"] for p in posted] == [
        f"Morning digest (part {n} of {parts})" for n in range(1, parts + 1)
    ]
    assert marks(posted) == [f"{MARKER} · part {n} of {parts}" for n in range(1, parts + 1)]
    assert accepted.counts == list(range(1, parts + 1))
    assert all(p["channel"] == CHANNEL for p in posted)
    assert all(block_errors(p) == [] for p in posted)
    everything = "".join(block_text(p) for p in posted)
    positions = [everything.index(f"story {i}: ") for i in range(12)]
    assert positions == sorted(positions)


async def test_a_send_resumes_after_the_parts_already_accepted(slack: FakeSlack) -> None:
    sender = SlackAdapter(http_settings(slack), build_dispatcher(Handlers())).sender
    accepted = Accepted()
    await sender.send(CHANNEL, long_digest(), accepted.progress(done=2))

    [first, *_] = slack.posted()
    assert first["text"].startswith("Morning digest (part 3 of ")
    assert accepted.counts[0] == 3


async def test_delivered_finds_the_digests_parts_in_channel_history(slack: FakeSlack) -> None:
    adapter = SlackAdapter(http_settings(slack), build_dispatcher(Handlers()))
    digest = Reply(title="Morning digest", footnote=MARKER)

    assert await adapter.sender.delivered(CHANNEL, MARKER) == Seen()
    await adapter.sender.send(CHANNEL, digest, Progress(ref=MARKER))

    assert await adapter.sender.delivered(CHANNEL, MARKER) == Seen(parts=1, total=1)
    assert await adapter.sender.delivered(CHANNEL, "ref ffffffffff") == Seen()
    assert await adapter.sender.delivered("C0OTHER", MARKER) == Seen()
    await adapter.sender.send("C0OTHER", long_digest(), Progress(ref=MARKER))
    parts = len(slack.posted()) - 1
    assert await adapter.sender.delivered("C0OTHER", MARKER) == Seen(parts=parts, total=parts)


async def test_delivered_without_the_history_scope_finds_nothing(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = SlackAdapter(http_settings(slack), build_dispatcher(Handlers()))
    await adapter.sender.send(
        CHANNEL, Reply(title="Morning digest", footnote=MARKER), Progress(ref=MARKER)
    )
    slack.history_allowed = False

    assert await adapter.sender.delivered(CHANNEL, MARKER) == Seen()
    assert any(getattr(r, "error", None) == "missing_scope" for r in caplog.records)


async def test_a_rate_limited_post_waits_and_is_posted_once(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    adapter = SlackAdapter(http_settings(slack), build_dispatcher(Handlers()))

    await adapter.sender.send(CHANNEL, Reply(title="Morning digest"), Progress(ref=MARKER))

    limited, retried = slack.calls("chat.postMessage")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 1.0  # Retry-After: 1 was honoured
    [stored] = slack.posted()
    assert stored["text"] == "Morning digest"


async def test_a_long_retry_after_is_left_to_the_outbox_not_slept_through(
    slack: FakeSlack,
) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=120)
    sender = SlackAdapter(http_settings(slack), build_dispatcher(Handlers())).sender

    async with asyncio.timeout(10):  # the retry handler alone would sleep two minutes
        with pytest.raises(DeliveryError) as raised:
            await sender.send(CHANNEL, Reply(title="Morning digest"), Progress(ref=MARKER))

    assert raised.value.retryable and raised.value.retry_after == 120.0
    assert len(slack.calls("chat.postMessage")) == 1 and slack.posted() == []


async def test_rate_limited_to_the_end_raises_a_retryable_error_with_the_hint(
    slack: FakeSlack,
) -> None:
    # No waiting in this test: a client that gives up on the first 429.
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=0)],
    )
    slack.fail("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(DeliveryError) as raised:
        await SlackSender(client).send(CHANNEL, Reply(title="Morning digest"), Progress(MARKER))

    assert raised.value.retryable is True
    assert raised.value.retry_after == 7.0
    assert slack.posted() == []


@pytest.mark.parametrize(
    ("status", "error", "retryable", "maybe_sent"),
    [
        (200, "channel_not_found", False, False),
        (200, "not_in_channel", False, False),
        (200, "internal_error", True, True),
        (503, "fatal", True, True),
    ],
)
async def test_failures_say_whether_a_retry_can_help_and_whether_slack_may_have_posted(
    slack: FakeSlack, status: int, error: str, retryable: bool, maybe_sent: bool
) -> None:
    slack.fail("chat.postMessage", status=status, error=error, retry_after=None)
    sender = SlackAdapter(http_settings(slack), build_dispatcher(Handlers())).sender

    with pytest.raises(DeliveryError) as raised:
        await sender.send(CHANNEL, Reply(title="Morning digest"), Progress(ref=MARKER))

    assert raised.value.retryable is retryable
    assert raised.value.maybe_sent is maybe_sent
    assert raised.value.retry_after is None


async def test_a_retry_after_a_partial_failure_posts_nothing_twice(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", status=200, error="internal_error", retry_after=None, after=1)
    sender = SlackAdapter(http_settings(slack), build_dispatcher(Handlers())).sender
    accepted = Accepted()

    with pytest.raises(DeliveryError) as raised:
        await sender.send(CHANNEL, long_digest(), accepted.progress())
    assert raised.value.retryable and raised.value.maybe_sent
    assert len(slack.posted()) == 1 and accepted.counts == [1]
    # What the outbox does next: ask the channel, then resume after what is there.
    seen = await sender.delivered(CHANNEL, MARKER)
    assert seen.parts == 1
    await sender.send(CHANNEL, long_digest(), accepted.progress(done=seen.parts))

    texts = [p["text"] for p in slack.posted()]
    assert texts == [f"Morning digest (part {n} of {len(texts)})" for n in range(1, len(texts) + 1)]


async def test_a_dropped_connection_is_not_retried_blindly(slack: FakeSlack) -> None:
    """Slack stored part 2, then the connection dropped. slack-sdk's connection-error
    handler would post it again; the digest sender leaves the decision to the outbox,
    which finds part 2 in the channel and resumes with part 3."""
    slack.drop_answer("chat.postMessage", after=1)
    sender = SlackAdapter(http_settings(slack), build_dispatcher(Handlers())).sender
    accepted = Accepted()

    with pytest.raises(DeliveryError) as raised:
        await sender.send(CHANNEL, long_digest(), accepted.progress())
    assert raised.value.maybe_sent and accepted.counts == [1]
    assert len(slack.calls("chat.postMessage")) == 2  # not posted again by the SDK

    seen = await sender.delivered(CHANNEL, MARKER)
    assert seen.parts == 2
    await sender.send(CHANNEL, long_digest(), accepted.progress(done=seen.parts))
    texts = [p["text"] for p in slack.posted()]
    assert texts == [f"Morning digest (part {n} of {len(texts)})" for n in range(1, len(texts) + 1)]


# -- settings ---------------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    http = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": ""}
    )
    socket = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_BASE": "http://127.0.0.1:9/api/",
        }
    )

    assert http == SlackSettings(bot_token=BOT_TOKEN, signing_secret=SECRET)
    assert http is not None and not http.socket_mode and http.command == "/brief"
    assert (http.port, http.reply_in_channel, http.api_base) == (3000, False, None)
    assert (http.host, http.path) == ("0.0.0.0", "/slack/events")
    assert socket is not None and socket.socket_mode
    assert socket.api_base == "http://127.0.0.1:9/api/"
    assert replace(socket, command="/news").command == "/news"
    assert SlackSettings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN}) is None
    assert SlackSettings.from_env({"SLACK_SIGNING_SECRET": SECRET}) is None
    assert SlackSettings.from_env({}) is None


def test_settings_never_show_secrets() -> None:
    settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret=SECRET, app_token=APP_TOKEN)

    shown = repr(settings) + str(settings)

    assert BOT_TOKEN not in shown and SECRET not in shown and APP_TOKEN not in shown
    with pytest.raises(ValueError, match="start"):
        replace(settings, command="brief")
    with pytest.raises(ValueError, match="starts with '/'"):
        replace(settings, path="slack/events")
