"""Config files: the speaker book and per-document source rules, and their errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, SourceRules, load_settings, load_sources, load_speakers
from bot.core.article import KnownFields
from bot.core.speakers import SpeakerBook, SpeakerKind

CONFIG = Path(__file__).resolve().parent.parent / "config"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the project's own config ----------------------------------------------------------


def test_the_project_speaker_book_loads(speaker_book: SpeakerBook) -> None:
    peskov = speaker_book.get("Dmitry Peskov")
    assert peskov is not None
    assert "Песков" in peskov.aliases
    assert "Kremlin spokesman" in peskov.roles
    kremlin = speaker_book.get("the Kremlin")
    assert kremlin is not None and kremlin.kind is SpeakerKind.ORGANISATION
    assert len({s.name for s in speaker_book.speakers}) == len(speaker_book.speakers) >= 9


@pytest.mark.parametrize("query", ["peskov", "Песков", "Dmitri Peskov", "Peskof", "PESKOV"])
def test_suggest_resolves_peskov_in_every_spelling(speaker_book: SpeakerBook, query: str) -> None:
    suggestions = speaker_book.suggest(query)
    assert suggestions and suggestions[0].name == "Dmitry Peskov"


@pytest.mark.parametrize("query", ["xyzzy", "qwertyuiop", "banana bread", "", "   "])
def test_suggest_returns_nothing_for_nonsense(speaker_book: SpeakerBook, query: str) -> None:
    assert speaker_book.suggest(query) == []


def test_suggest_finds_other_speakers_by_alias_and_typo(speaker_book: SpeakerBook) -> None:
    assert speaker_book.suggest("Lavrof")[0].name == "Sergei Lavrov"
    assert speaker_book.suggest("Zelensky")[0].name == "Volodymyr Zelenskyy"
    assert speaker_book.suggest("Путин")[0].name == "Vladimir Putin"


@pytest.mark.parametrize(
    "phrase",
    ["the Kremlin spokesman", "Kremlin spokesman", "The Kremlin’s chief spokesman"],
)
def test_by_role_names_the_speaker(speaker_book: SpeakerBook, phrase: str) -> None:
    speaker = speaker_book.by_role(phrase)
    assert speaker is not None and speaker.name == "Dmitry Peskov"


def test_by_role_knows_no_unlisted_role(speaker_book: SpeakerBook) -> None:
    assert speaker_book.by_role("the weatherman") is None


def test_the_project_source_rules_date_the_seeds() -> None:
    rules = load_sources(CONFIG / "sources.yaml")
    known = rules.known_for(SEEDS / "000_9400752ccb8fb0fa.txt", "b3d443b8c6b7311e")
    assert known == KnownFields(published=datetime(2016, 11, 10, tzinfo=UTC))
    assert rules.known_for(SEEDS / "004_91b2cf10b7b235b0.txt", "x") == KnownFields()


# --- missing and empty files -----------------------------------------------------------


def test_a_missing_speakers_file_gives_an_empty_book(tmp_path: Path) -> None:
    assert load_speakers(tmp_path / "speakers.yaml") == SpeakerBook()


def test_a_missing_sources_file_gives_no_rules(tmp_path: Path) -> None:
    rules = load_sources(tmp_path / "sources.yaml")
    assert rules == SourceRules()
    assert rules.known_for(tmp_path / "a.txt", "abc") == KnownFields()


@pytest.mark.parametrize("text", ["", "# only a comment\n", "speakers:\n", "speakers: []\n"])
def test_an_empty_speakers_file_gives_an_empty_book(tmp_path: Path, text: str) -> None:
    assert load_speakers(write(tmp_path, "speakers.yaml", text)) == SpeakerBook()


# --- speakers.yaml ---------------------------------------------------------------------


def test_a_speakers_file_is_parsed_into_speakers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "speakers.yaml",
        "speakers:\n"
        "  - name: ' Maria Zakharova '\n"
        "    aliases: [Zakharova, Захарова, '']\n"
        "    roles: [Foreign Ministry spokeswoman]\n"
        "  - name: TASS\n"
        "    kind: organisation\n",
    )
    book = load_speakers(path)
    zakharova, tass = book.speakers
    assert zakharova.name == "Maria Zakharova"
    assert zakharova.aliases == ("Zakharova", "Захарова")
    assert zakharova.kind is SpeakerKind.PERSON
    assert book.by_role("the Foreign Ministry spokeswoman") == zakharova
    assert tass.kind is SpeakerKind.ORGANISATION


SPEAKER_ERRORS = [
    pytest.param(
        "speakers:\n  - name: Dmitry Peskov\n   aliases: [Peskov]\n",
        "line 3, column 4",
        "not valid YAML",
        "check the indentation",
        id="bad-indentation",
    ),
    pytest.param(
        "speakers:\n  - name: A One\n  - name: B Two\n  - kind: person\n    aliases: [C]\n",
        "speakers[2].name",
        "every speaker needs a `name`",
        "add `name: Full Name`",
        id="no-name",
    ),
    pytest.param(
        "speakers:\n  - name: A One\n  - name: '  '\n",
        "speakers[1].name",
        "every speaker needs a `name`",
        "add `name: Full Name`",
        id="blank-name",
    ),
    pytest.param(
        "speakers:\n  - Dmitry Peskov\n",
        "speakers[0]",
        "every speaker needs a `name`",
        "add `name: Full Name`",
        id="entry-not-a-mapping",
    ),
    pytest.param(
        "speakers:\n  - name: Dmitry Peskov\n  - name: dmitry peskov\n",
        "speakers[1].name",
        "'dmitry peskov' is listed twice",
        "merge the two entries",
        id="duplicate-name",
    ),
    pytest.param(
        "speakers:\n  - name: Kremlin\n    kind: institution\n",
        "speakers[0].kind",
        "unknown kind 'institution'",
        "use person or organisation",
        id="unknown-kind",
    ),
    pytest.param(
        "speakers:\n  - name: Dmitry Peskov\n    aliases: Peskov\n",
        "speakers[0].aliases",
        "expected a list of names",
        "write it as [Name One, Name Two]",
        id="aliases-not-a-list",
    ),
    pytest.param(
        "speakers:\n  - name: Dmitry Peskov\n    roles: {spokesman: true}\n",
        "speakers[0].roles",
        "expected a list of names",
        "write it as [Name One, Name Two]",
        id="roles-not-a-list",
    ),
    pytest.param(
        "speakers:\n  - name: Dmitry Peskov\n    alias: [Peskov]\n",
        "speakers[0].alias",
        "unknown field",
        "use name, kind, aliases or roles",
        id="unknown-field",
    ),
    pytest.param(
        "speakers:\n  name: Dmitry Peskov\n",
        "speakers",
        "expected a list under `speakers:`",
        "see the comment at the top of speakers.yaml",
        id="not-a-list",
    ),
    pytest.param(
        "speaker:\n  - name: Dmitry Peskov\n",
        "speaker",
        "unknown field",
        "the file holds only `speakers:`",
        id="misspelt-top-key",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem", "fix"), SPEAKER_ERRORS)
def test_speaker_errors_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, key: str, problem: str, fix: str
) -> None:
    path = write(tmp_path, "speakers.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_speakers(path)
    error = raised.value
    assert (error.path, error.key) == (str(path), key)
    assert str(error).startswith(f"{path}: {key}: ")
    assert problem in str(error)
    assert f"Fix: {fix}" in str(error)


def test_a_speakers_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "speakers.yaml"
    path.write_bytes("speakers:\n  - name: Café\n".encode("utf-16"))
    with pytest.raises(ConfigError, match=r"speakers\.yaml: \(file\): not UTF-8 text") as raised:
        load_speakers(path)
    assert "Fix: save the file as UTF-8" in str(raised.value)


# --- sources.yaml ----------------------------------------------------------------------


def test_source_rules_match_by_file_name_glob_path_and_document_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sources.yaml",
        "sources:\n"
        "  - match: story.txt\n"
        "    title: By name\n"
        "  - match: '*/wire/*'\n"
        "    outlet: By glob\n"
        "  - match: 0123456789abcdef\n"
        "    byline: By id\n"
        "    date: 2016-11-10\n"
        "    url: https://example.org/x\n",
    )
    rules = load_sources(path)
    assert rules.known_for(Path("/data/story.txt"), "x") == KnownFields(title="By name")
    assert rules.known_for(Path("/data/wire/a.md"), "x") == KnownFields(outlet="By glob")
    assert rules.known_for(Path("/data/other.txt"), "0123456789abcdef") == KnownFields(
        byline="By id",
        published=datetime(2016, 11, 10, tzinfo=UTC),
        url="https://example.org/x",
    )
    assert rules.known_for(Path("/data/other.txt"), "fedcba9876543210") == KnownFields()


def test_later_source_rules_win_and_earlier_ones_fill_the_gaps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sources.yaml",
        "sources:\n"
        "  - match: 'reuters-*.txt'\n"
        "    outlet: Reuters\n"
        "    author: Wire Desk\n"
        "  - match: reuters-7.txt\n"
        "    outlet: Reuters Moscow\n"
        "    published: November 10, 2016\n",
    )
    rules = load_sources(path)
    assert rules.known_for(Path("reuters-7.txt"), "x") == KnownFields(
        outlet="Reuters Moscow",
        byline="Wire Desk",
        published=datetime(2016, 11, 10, tzinfo=UTC),
    )
    assert rules.known_for(Path("reuters-8.txt"), "x") == KnownFields(
        outlet="Reuters", byline="Wire Desk"
    )


SOURCE_ERRORS = [
    pytest.param(
        "sources:\n  - match: a.txt\n    outlet: [unclosed\n",
        "line 4, column 1",
        "not valid YAML",
        "check the indentation and quoting there",
        id="bad-yaml",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\n    outlet: A\n  - outlet: B\n",
        "sources[1]",
        "every entry needs a `match`",
        "add `match: file-name.txt`",
        id="no-match",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\n    outlett: Reuters\n",
        "sources[0].outlett",
        "unknown field",
        "use title, outlet, byline, date or url",
        id="unknown-field",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\n    date: 10/11/2016\n",
        "sources[0].date",
        "date '10/11/2016' is not a date like 2016-11-10",
        "write dates as YYYY-MM-DD",
        id="bad-date",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\n  - match: b.txt\n    published: 2016-13-45\n",
        "sources[1].published",
        "date '2016-13-45' is not a date",
        "write dates as YYYY-MM-DD",
        id="bad-published",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\n    date: 2016-02-30\n",
        "sources[0].date",
        "date '2016-02-30' is not a date like 2016-11-10",
        "write dates as YYYY-MM-DD",
        id="impossible-date",
    ),
    pytest.param(
        "- match: a.txt\n",
        "sources",
        "expected a list under `sources:`",
        "see the comment at the top of sources.yaml",
        id="top-level-list",
    ),
    pytest.param(
        "sources:\n  - match: a.txt\nrules:\n  - match: b.txt\n",
        "rules",
        "unknown field",
        "the file holds only `sources:`",
        id="unknown-top-key",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem", "fix"), SOURCE_ERRORS)
def test_source_errors_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, key: str, problem: str, fix: str
) -> None:
    path = write(tmp_path, "sources.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_sources(path)
    error = raised.value
    assert (error.path, error.key) == (str(path), key)
    assert str(error).startswith(f"{path}: {key}: ")
    assert problem in str(error)
    assert f"Fix: {fix}" in str(error)


# --- bot.yaml: what a schedule or a token key gets wrong ------------------------------------


SCHEDULE_WITH = """schedules:
  - name: morning
    cron: "0 8 * * *"
    target: console
    speakers: [{names}]
digests:
  tracked_speakers: [{tracked}]
"""


def settings_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "speakers.yaml").write_text(
        (CONFIG / "speakers.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return write(tmp_path, "bot.yaml", text)


def test_a_speaker_filter_naming_no_configured_speaker_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = settings_file(
        tmp_path, SCHEDULE_WITH.format(names="Dmitry Peskov, Zzz Unknown", tracked="Qqq Nobody")
    )
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        settings = load_settings(path)
    assert settings.schedules[0].speakers == ("Dmitry Peskov", "Zzz Unknown")  # still loads
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.config"]
    assert warned == [
        f"{path}: digests.tracked_speakers: 'Qqq Nobody' is no speaker in "
        f"{tmp_path / 'speakers.yaml'}; only quotes filed under exactly that name will match. "
        f"Fix: use a name or alias from {tmp_path / 'speakers.yaml'}, or add it there",
        f"{path}: schedules[0].speakers: 'Zzz Unknown' is no speaker in "
        f"{tmp_path / 'speakers.yaml'}; only quotes filed under exactly that name will match. "
        f"Fix: use a name or alias from {tmp_path / 'speakers.yaml'}, or add it there",
    ]


def test_aliases_roles_and_small_typos_in_a_speaker_filter_are_fine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = settings_file(
        tmp_path, SCHEDULE_WITH.format(names="Песков, Kremlin spokesman, Peskof", tracked="Putin")
    )
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        load_settings(path)
    assert [r for r in caplog.records if r.name == "bot.config"] == []


@pytest.mark.parametrize(
    ("section", "key", "variable"),
    [
        ("discord", "token", "DISCORD_TOKEN"),
        ("discord", "bot_token", "DISCORD_TOKEN"),
        ("slack", "bot_token", "SLACK_BOT_TOKEN"),
        ("slack", "token", "SLACK_BOT_TOKEN"),
        ("slack", "app_token", "SLACK_APP_TOKEN"),
        ("slack", "signing_secret", "SLACK_SIGNING_SECRET"),
    ],
)
def test_a_token_in_bot_yaml_says_where_tokens_go(
    tmp_path: Path, section: str, key: str, variable: str
) -> None:
    path = write(tmp_path, "bot.yaml", f"{section}:\n  {key}: abc123\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {section}.{key}: tokens and secrets never go in this file")
    assert message.endswith(
        f"Fix: delete this key and set the {variable} environment variable instead"
    )
    assert "abc123" not in message and "guild_id" not in message
