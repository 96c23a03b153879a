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

UNKNOWN_SPEAKER = "I know no speaker called {query!r}."
DID_YOU_MEAN = "Did you mean one of these?"
NO_SUGGESTIONS = "Try /speakers to see everyone quoted in the archive."
NO_STATEMENTS = "{speaker} has no quotes in the archive{filters}."
STATEMENTS_TITLE = "{speaker}: {count} statement{s}{filters}"
REPEATED_HEADING = "Repeated across outlets"
ONCE_HEADING = "Printed once"
SHOWING = "Showing {shown} of {total}. Narrow it with since: or topic:, or raise limit:."
PARTIAL_NOTE = "(partial quote)"
UNATTRIBUTED = "unattributed"

OVERLAPS_TITLE = "{count} statement{s} printed by {minimum} or more outlets"
NO_OVERLAPS = "No statement is printed by {minimum} or more outlets yet."

UNKNOWN_DOCUMENT = "I can't find a document matching {query!r}."
DOCUMENT_SUGGESTIONS = "Closest documents:"
SUMMARY_HEADING = "Summary"
QUOTES_HEADING = "Quotes"
CUTS_NOTE = "Removed from the text: {cuts}."

SEARCH_TITLE = "Search for {query!r}"
NO_RESULTS = "Nothing in the archive matches {query!r}."
SEARCH_QUOTES = "Quotes"
SEARCH_DOCUMENTS = "Documents"
SEARCH_TOO_SHORT = "Search for at least {minimum} characters."

SOURCES_TITLE = "{documents} document{s} from {outlets} source{os}"
SPEAKERS_TITLE = "{count} speaker{s} quoted"
EMPTY_ARCHIVE = "The archive is empty. Add articles with `briefbot ingest PATH`."

DIGEST_TITLE = "briefbot digest: {window}"
DIGEST_EMPTY = "Nothing new since {since}."
DIGEST_NEW_STORIES = "New stories"
DIGEST_UPDATED_STORIES = "More coverage of earlier stories"
DIGEST_REPEATED = "Repeated by more outlets"
DIGEST_QUOTES = "New quotes"
DIGEST_WINDOW_SINCE = "since {since}"
DIGEST_WINDOW_ALL = "everything so far"

FIRST_SEEN = "first seen {date}"
OUTLETS = "{count} outlet{s}"
