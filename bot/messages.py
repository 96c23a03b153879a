"""Every user-facing string, in one place, so wording stays consistent across platforms."""

from __future__ import annotations

# Command descriptions (Discord shows at most 100 characters).
QUOTES_HELP = "What a speaker said: repeated statements first, with outlets and first-seen date."
OVERLAPS_HELP = "Statements printed by several outlets, most widely repeated first."
SUMMARY_HELP = "A short summary of one document, with its quotes."
SEARCH_HELP = "Search quotes and documents for some words."
SOURCES_HELP = "The outlets and documents in the archive."
SPEAKERS_HELP = "Everyone quoted in the archive, most quoted first."
DIGEST_HELP = "What is new: stories, repeated statements and new quotes."
HELP_HELP = "What briefbot can do."

SPEAKER_PARAM = "Who said it, e.g. Peskov"
SINCE_PARAM = "Only from this date on (YYYY-MM-DD)"
TOPIC_PARAM = "Only statements mentioning these words"
LIMIT_PARAM = "How many to show"
MIN_OUTLETS_PARAM = "Printed by at least this many outlets (2 or more)"
DOCUMENT_PARAM = "A document's title, outlet, file name or id"
SEARCH_PARAM = "Words to look for"

# Chat answers on every platform (Slack and Discord word a crash the same way).
COMMAND_FAILED = "Sorry, something went wrong. Please try again later."
EMPTY_REPLY = "Nothing to show."
# Discord: shown for a moment in place of "thinking…" before an error goes out privately.
ANSWERED_PRIVATELY = "The answer went to you privately."

UNKNOWN_SPEAKER = "I know no speaker called {query!r}."
DID_YOU_MEAN = "Did you mean one of these?"
MOST_QUOTED = "No name is close. The most quoted speakers are:"
NO_SUGGESTIONS = "Try /speakers to see everyone quoted in the archive."
NO_STATEMENTS = "{speaker} has no quotes in the archive{filters}."
STATEMENTS_TITLE = "{speaker}: {count} statement{s}{filters}"
REPEATED_HEADING = "Repeated across outlets"
ONCE_HEADING = "Printed once"
SHOWING = "Showing {shown} of {total}. Narrow it with since: or topic:, or raise limit:."
SHOWING_OVERLAPS = (
    "Showing {shown} of {total}. Raise min_outlets: to narrow it, or limit: to see more."
)
SHOWING_LIST = "Showing {shown} of {total}. Raise limit: (up to {maximum}) to see more."
PARTIAL_NOTE = "(partial quote)"
UNATTRIBUTED = "unattributed"
# A repeated statement the outlets attribute to different people: each, with who says so.
DISPUTED = "attributed differently: {speakers}"
DISPUTED_SPEAKER = "{speaker} ({outlets})"

OVERLAPS_TITLE = "{count} statement{s} printed by {minimum} or more outlets"
NO_OVERLAPS = "No statement is printed by {minimum} or more outlets yet."

UNKNOWN_DOCUMENT = "I can't find a document matching {query!r}."
DOCUMENT_SUGGESTIONS = "Closest documents:"
SUMMARY_HEADING = "Summary"
QUOTES_HEADING = "Quotes"
CUTS_NOTE = "Removed from the text: {cuts}."
CUT = "{reason} ({chars:,} characters): “{text}”"
CUTS_MORE = "and {count} more"
BYLINE = "by {byline}"
DOCUMENT_ID = "id {id}"

SEARCH_TITLE = "Search for {query!r}"
NO_RESULTS = "Nothing in the archive matches {query!r}."
SEARCH_QUOTES = "Quotes"
SEARCH_DOCUMENTS = "Documents"
SEARCH_TOO_SHORT = "Search for at least {minimum} characters."

SOURCES_TITLE = "{documents} document{s}: {parts}"
SOURCES_UNNAMED = "{count} with no outlet named"
OUTLET_HEADING = "{outlet} · {count} document{s}"
NO_OUTLET = "No outlet named"
SPEAKERS_TITLE = "{count} speaker{s} quoted"
EMPTY_ARCHIVE = "The archive is empty. Add articles with `briefbot ingest PATH`."

DIGEST_TITLE = "briefbot digest: {window}"
DIGEST_EMPTY = "Nothing new since {since}."
DIGEST_NEW_STORIES = "New stories"
DIGEST_UPDATED_STORIES = "More coverage of earlier stories"
DIGEST_REPEATED = "Repeated by more outlets"
DIGEST_QUOTES_BY = "New quotes: {speaker} ({count})"
DIGEST_MORE_QUOTES = "The {rest} more are in /quotes {speaker}."
DIGEST_MORE = "The first {shown} of {total}; ask /overlaps for all of them."
DIGEST_MORE_STORIES = "The first {shown} of {total}; /sources lists every document."
DIGEST_WINDOW_SINCE = "since {since}"
DIGEST_WINDOW_ALL = "everything so far"
# After a digest's reference on each of its messages, when it needs several.
DIGEST_PART = " · part {part} of {total}"

FIRST_SEEN = "first seen {date}"
INGESTED = "undated, ingested {date}"
FIRST_INGESTED = "undated, first ingested {date}"
OUTLETS = "{count} outlet{s}"
SOURCES = "{count} source{s}"  # when some of them are documents with no outlet named

# How an outlet printed a repeated statement, when not word for word.
VARIANT_EDITED = "{source} — edited: {diff}"
VARIANT_FRAGMENT = "{source} — printed only part: “{text}”"
VARIANT_FRAGMENT_EDITED = "{source} — printed only part, edited: {diff}"
VARIANT_NEAR = "{source} — a partial quote close to it: “{text}”"
VARIANT_MERGED = "{source} — merged into one quote with {others}"
VARIANT_MERGED_ALONE = "{source} — merged with another statement: “{text}”"
AND = " and "

# Configuration warnings (logged at start).
UNKNOWN_FILTER_SPEAKER = (
    "{path}: {key}: {name!r} is no speaker in {speakers}; only quotes filed under exactly "
    "that name will match. Fix: use a name or alias from {speakers}, or add it there"
)
TOKEN_IN_CONFIG = "tokens and secrets never go in this file"
TOKEN_IN_CONFIG_FIX = "delete this key and set the {variable} environment variable instead"

# Slack: an answer of more than five messages needs the Web API for the rest, which
# works only in a channel the bot is in.
SLACK_REST_NOT_POSTED = "The rest of this answer could not be posted here."
SLACK_REST_HOW_TO = (
    "Parts {first} to {parts} were refused ({error}). An answer longer than five messages "
    "needs me in the channel: invite me with /invite @briefbot, or ask for less, "
    "e.g. with limit: or since:."
)
SLACK_UNREACHABLE = "Slack could not be reached"

# Storage (storage.url in config/bot.yaml, or --db): "<problem>. Fix: <fix>".
STORAGE_NOT_A_URL = "{url!r} is not a database URL"
STORAGE_URL_FIX = (
    "use sqlite:///var/briefbot.db (a file) or postgresql+psycopg://user@host/db "
    "(with the postgres extra installed)"
)
STORAGE_NO_DRIVER = "cannot use {url}: {reason}"
STORAGE_NO_FOLDER = "the folder {folder} does not exist"
STORAGE_FOLDER_FAILED = "cannot create the folder {folder}: {reason}"
STORAGE_FOLDER_FIX = "put the database file in a folder that exists and briefbot may write to"
STORAGE_CANNOT_OPEN = "cannot open {url}: {reason}"
STORAGE_SERVER_FIX = (
    "check that the database server is running and that the URL's host, port, user, "
    "password and database name are right"
)
STORAGE_FILE_FIX = "point it at a briefbot database file, in a folder briefbot may write to"
STORAGE_NEWER = (
    "the database has schema version {found}, newer than this briefbot reads ({supported})"
)
STORAGE_NEWER_FIX = "upgrade briefbot, or point the URL at another database"
NO_SUCH_PATH = "no such file or folder: {path}. Fix: check the path"

# `briefbot ingest`: the counts, then each file skipped or read with a warning.
INGEST_SUMMARY = (
    "{added} new document(s), {known} already in the archive, {quotes} quote(s), "
    "{skipped} file(s) skipped{warned}."
)
INGEST_WARNED = ", {count} read with warnings"
INGEST_SKIPPED = "skipped {path}: {reason}"
INGEST_WARNING = "warning {path}: {reason}"
