"""The command registry: typed parameters, typed lines, and a dispatcher that never raises."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from bot.commands import (
    MAX_LINE_CHARS,
    Command,
    CommandError,
    Completion,
    Dispatcher,
    Param,
    ParamKind,
    Registry,
    Suggestion,
    help_reply,
    parse_line,
    split_line,
)
from bot.reply import Reply


def echo(ctx: str, args: Mapping[str, object]) -> Reply:
    """Shows what the handler was given, typed."""
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(args.items()))
    return Reply(title=f"{ctx}: {shown}")


def refuse(ctx: str, args: Mapping[str, object]) -> Reply:
    raise CommandError("That is not allowed.")


QUOTES = Command(
    "quotes",
    "What someone said.",
    echo,
    (
        Param("speaker", "Who", required=True, completion=Completion.SPEAKERS),
        Param("since", "From", ParamKind.DATE),
        Param("topic", "About"),
        Param("limit", "How many", ParamKind.INT, min_value=1, max_value=100),
    ),
)
REGISTRY: Registry[str] = Registry(
    (QUOTES, Command("refuse", "Always says no.", refuse), Command("ping", "Pong.", echo))
)


def completer(ctx: str, kind: Completion, prefix: str) -> list[Suggestion]:
    return [Suggestion(f"{kind.value}:{prefix}", prefix)]


@pytest.fixture
def bot() -> Dispatcher[str]:
    return Dispatcher(REGISTRY, lambda: "ctx", completer)


# -- parameters ------------------------------------------------------------------------------


def test_params_parse_their_kind() -> None:
    assert Param("t", "").parse("  words  ") == "words"
    assert QUOTES.param("limit") is not None
    assert Param("n", "", ParamKind.INT).parse(" 42 ") == 42
    assert Param("d", "", ParamKind.DATE).parse("2016-11-10") == date(2016, 11, 10)


@pytest.mark.parametrize(
    ("param", "raw", "message"),
    [
        (Param("n", "", ParamKind.INT), "4.5", "`n` must be a whole number, not '4.5'."),
        (Param("n", "", ParamKind.INT, min_value=2), "1", "`n` must be at least 2."),
        (Param("n", "", ParamKind.INT, max_value=9), "10", "`n` must be at most 9."),
        (Param("d", "", ParamKind.DATE), "2016-02-30", "`d` must be a date like 2016-11-10, not "),
        (Param("d", "", ParamKind.DATE), "tomorrow", "`d` must be a date like 2016-11-10, not "),
    ],
)
def test_bad_values_are_command_errors(param: Param, raw: str, message: str) -> None:
    with pytest.raises(CommandError) as raised:
        param.parse(raw)
    assert str(raised.value).startswith(message)


def test_usage_shows_required_and_optional_params() -> None:
    assert QUOTES.usage == "quotes <speaker> [since] [topic] [limit]"
    assert REGISTRY.get("/QUOTES ") is QUOTES
    assert REGISTRY.get("nothing") is None


def test_bind_types_the_arguments_and_names_what_is_wrong() -> None:
    bound = REGISTRY.bind(QUOTES, {"speaker": "Peskov", "since": "2016-11-10", "topic": " "})
    assert bound == {"speaker": "Peskov", "since": date(2016, 11, 10)}
    with pytest.raises(CommandError, match="`quotes` has no option `colour`"):
        REGISTRY.bind(QUOTES, {"speaker": "Peskov", "colour": "red"})
    with pytest.raises(CommandError, match="`quotes` needs `speaker`"):
        REGISTRY.bind(QUOTES, {"speaker": "  "})


# -- typed lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["Dmitry", "Peskov"], {"speaker": "Dmitry Peskov"}),
        (
            ["Dmitry", "Peskov", "since:2016-11-01", "topic:trust"],
            {"speaker": "Dmitry Peskov", "since": "2016-11-01", "topic": "trust"},
        ),
        (["--since", "2016-11-01", "Peskov"], {"speaker": "Peskov", "since": "2016-11-01"}),
        (["Peskov", "--limit=3"], {"speaker": "Peskov", "limit": "3"}),
        (["topic:trust", "Peskov"], {"speaker": "Peskov", "topic": "trust"}),
        # A colon that names no option is part of the text.
        (["Note:", "Peskov"], {"speaker": "Note: Peskov"}),
        (["speaker:Lavrov", "trust"], {"speaker": "Lavrov", "since": "trust"}),
    ],
)
def test_split_line_names_the_arguments(words: list[str], expected: dict[str, str]) -> None:
    assert split_line(QUOTES, words) == expected


@pytest.mark.parametrize(
    ("command", "words", "message"),
    [
        (QUOTES, ["Peskov", "--since"], "`--since` needs a value."),
        (QUOTES, ["Peskov", "--colour", "red"], "`quotes` has no option `colour`"),
        (QUOTES, ["Peskov", "sinse:2016-01-01"], "`quotes` has no option `sinse`; did you mean"),
        (QUOTES, ["Peskov", "limt:5"], "`quotes` has no option `limt`; did you mean `limit`?"),
        (REGISTRY.commands[1], ["extra"], "Too many words for `refuse`: refuse"),
    ],
)
def test_split_line_refuses_what_it_cannot_place(
    command: Command[str], words: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as raised:
        split_line(command, words)
    assert str(raised.value).startswith(message)


def test_a_colon_in_a_name_or_text_is_not_taken_for_an_option() -> None:
    assert split_line(QUOTES, ["Kremlin:", "statement"]) == {"speaker": "Kremlin: statement"}
    assert split_line(QUOTES, ["Mr.", "X:", "Y"]) == {"speaker": "Mr. X: Y"}


def test_parse_line_honours_balanced_quotes_and_the_length_limit() -> None:
    assert parse_line('quotes "Dmitry Peskov" topic:"mutual trust"') == [
        "quotes",
        "Dmitry Peskov",
        "topic:mutual trust",
    ]
    assert parse_line("search it’s “odd") == ["search", "it’s", "“odd"]
    assert parse_line('search unbalanced "quote') == ["search", "unbalanced", '"quote']
    assert parse_line("x" * MAX_LINE_CHARS) == ["x" * MAX_LINE_CHARS]
    with pytest.raises(CommandError, match="501 characters long; the limit is 500"):
        parse_line("x" * (MAX_LINE_CHARS + 1))


# -- the dispatcher ------------------------------------------------------------------------------


def test_run_line_types_the_arguments(bot: Dispatcher[str]) -> None:
    reply = bot.run_line("/quotes Dmitry Peskov since:2016-11-10 limit:3")
    assert reply == Reply(
        title="ctx: limit=3, since=datetime.date(2016, 11, 10), speaker='Dmitry Peskov'"
    )
    assert bot.run("quotes", {"speaker": "Dmitry Peskov", "since": "2016-11-10", "limit": "3"}) == (
        reply
    )


@pytest.mark.parametrize(
    "line",
    [
        "quotes Peskov limit:0",
        "quotes Peskov since:2016-13-01",
        "quotes",
        "quotes Peskov --since",
        "ping extra words",
        "refuse",
        "x" * (MAX_LINE_CHARS + 1),
    ],
)
def test_user_errors_come_back_as_error_replies(bot: Dispatcher[str], line: str) -> None:
    reply = bot.run_line(line)
    assert reply.is_error
    assert reply.title


def test_a_handlers_own_error_is_shown_as_it_is(bot: Dispatcher[str]) -> None:
    assert bot.run_line("refuse") == Reply(title="That is not allowed.", is_error=True)


def test_overlong_values_are_refused_by_name(bot: Dispatcher[str]) -> None:
    reply = bot.run("quotes", {"speaker": "p" * (MAX_LINE_CHARS + 1)})
    assert reply == Reply(title="`speaker` is longer than 500 characters.", is_error=True)
    assert not bot.run("quotes", {"speaker": "p" * MAX_LINE_CHARS}).is_error


def test_unknown_commands_and_empty_lines_get_help(bot: Dispatcher[str]) -> None:
    usage = [("quotes <speaker> [since] [topic] [limit]", "What someone said.")]
    usage += [("refuse", "Always says no."), ("ping", "Pong.")]
    help_items = [(i.text, i.detail) for s in bot.run_line("").sections for i in s.items]
    assert help_items == usage
    assert not bot.run_line("   ").is_error
    unknown = bot.run_line("frobnicate now")
    assert unknown.is_error
    assert unknown.title == "Unknown command 'frobnicate'. Here is what I can do:"
    assert unknown.sections == help_reply(REGISTRY).sections
    assert bot.run("frobnicate", {}) == unknown


def test_completion_goes_to_the_completer_for_completable_params(bot: Dispatcher[str]) -> None:
    assert bot.complete("quotes", "speaker", "pes") == [Suggestion("speakers:pes", "pes")]
    long = "p" * MAX_LINE_CHARS
    assert bot.complete("quotes", "speaker", "p" * 600) == [Suggestion(f"speakers:{long}", long)]
    assert bot.complete("quotes", "topic", "tr") == []  # no completion declared
    assert bot.complete("missing", "speaker", "p") == []
    assert Dispatcher(REGISTRY, lambda: "ctx").complete("quotes", "speaker", "p") == []
