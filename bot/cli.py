"""The `briefbot` command.

    briefbot run [--once]           ingest the corpus, post digests, serve commands
    briefbot console                chat with the bot in the terminal
    briefbot ingest PATH...         add new documents to the archive
    briefbot quotes SPEAKER         also: overlaps, summary, search, sources, speakers, digest
    briefbot eval                   quality figures against the hand-made gold

Query commands read the configured archive (after ingesting the configured corpus,
which only adds what is new); `--corpus PATH` analyses just that path instead, in a
throwaway in-memory archive. `--json` prints the answer as data (see bot/payloads.py):
`command`, `is_error`, `title`, `error` (the message, when there is one), then the
command's own fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import logs
from bot import messages as m
from bot.app import App, StartupError
from bot.config import ConfigError, load_settings
from bot.render.markdown import render_text
from bot.reply import Reply
from bot.store import StorageError

QUERY_COMMANDS = ("quotes", "overlaps", "summary", "search", "sources", "speakers", "digest")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(
        secrets=[v for k, v in os.environ.items() if k in logs.SECRET_VARIABLES],
        json_lines=args.log_format == "json",
        level=_level(args.verbose, serving=args.command == "run"),
    )
    try:
        return _dispatch(args)
    except (ConfigError, StartupError) as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return 2
    except StorageError as error:
        where = "--db" if args.db else f"{args.config}: storage.url"
        print(f"briefbot: {where}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`briefbot quotes Peskov | head`): not an error worth a
        # traceback. Point stdout at /dev/null so the flush at exit fails no more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # as a shell reports a command killed by SIGPIPE


def _dispatch(args: argparse.Namespace) -> int:
    overrides = {}
    if args.db:
        overrides["storage_url"] = args.db
    if getattr(args, "corpus", None):
        overrides["corpus_paths"] = (Path(args.corpus),)
        if not args.db:
            overrides["storage_url"] = "sqlite://"  # just this corpus, in memory
    settings = load_settings(Path(args.config), overrides=overrides)
    if args.command == "ingest":
        # A path that is not there is a mistake in the command, not a file to skip.
        missing = [path for path in args.paths if not Path(path).exists()]
        for path in missing:
            print("briefbot: " + m.NO_SUCH_PATH.format(path=path), file=sys.stderr)
        if missing:
            return 2
    app = App(settings)
    try:
        if args.command == "run":
            asyncio.run(app.run(once=args.once, console=not args.no_console))
            return 0
        if args.command == "console":
            from bot.adapters.console import repl

            app.ingest()
            asyncio.run(repl(app.dispatcher()))
            return 0
        if args.command == "ingest":
            paths = tuple(Path(p) for p in args.paths)
            report = app.ingest(paths)  # each file skipped or damaged is also logged
            result = report.result
            warned = m.INGEST_WARNED.format(count=len(report.warnings)) if report.warnings else ""
            print(
                m.INGEST_SUMMARY.format(
                    added=len(result.added),
                    known=len(result.skipped),
                    quotes=result.quotes,
                    skipped=len(report.problems),
                    warned=warned,
                )
            )
            for problem in report.problems:
                print(m.INGEST_SKIPPED.format(path=problem.path, reason=problem.reason))
            for warning in report.warnings:
                print(m.INGEST_WARNING.format(path=warning.path, reason=warning.reason))
            return 0
        if args.command == "eval":
            from bot.quality import report as quality_report

            print(quality_report(app.book))
            return 0
        app.ingest()
        reply = app.dispatcher().run(args.command, _arguments(args))
        _print(args.command, reply, as_json=args.json)
        return 1 if reply.is_error else 0
    finally:
        app.close()


def _arguments(args: argparse.Namespace) -> dict[str, str]:
    """The command's arguments as a chat user would give them, so the CLI runs the same
    handlers; passed as they are, never re-parsed from a line."""
    raw: dict[str, str] = {}
    for name in ("speaker", "document", "text", "since", "topic", "limit", "min_outlets"):
        value = getattr(args, name, None)
        if value is not None:
            raw[name] = str(value)
    return raw


def _print(command: str, reply: Reply, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(as_data(command, reply), ensure_ascii=False, indent=2))
    else:
        print(render_text(reply), end="")


def as_data(command: str, reply: Reply) -> dict[str, object]:
    """What `--json` prints: the reply's data under a few fields every command has."""
    found: dict[str, object] = {"command": command, "is_error": reply.is_error}
    found["title"] = reply.title
    if reply.is_error:
        found["error"] = reply.title
    return {**found, **(reply.data or {})}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefbot", description="Who said what, and where.")
    parser.add_argument("--config", default="config/bot.yaml", help="settings file (YAML)")
    parser.add_argument("--db", help="database URL, overriding storage.url")
    parser.add_argument("--log-format", choices=("logfmt", "json"), default="logfmt")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="ingest, post scheduled digests, serve commands")
    run.add_argument("--once", action="store_true", help="post one digest now and exit")
    run.add_argument(
        "--no-console", action="store_true", help="don't read commands from the terminal"
    )
    commands.add_parser("console", help="chat with the bot in the terminal")
    ingest = commands.add_parser("ingest", help="add new documents to the archive")
    ingest.add_argument("paths", nargs="+", help="files or folders")
    commands.add_parser("eval", help="precision and recall against the seed gold")

    def query(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--corpus", help="analyse only this file or folder (default: the archive)")
        sub.add_argument("--json", action="store_true", help="print the answer as JSON data")
        return sub

    quotes = query("quotes", "what a speaker said")
    quotes.add_argument("speaker")
    quotes.add_argument("--since", help="YYYY-MM-DD")
    quotes.add_argument("--topic")
    quotes.add_argument("--limit", type=int)
    overlaps = query("overlaps", "statements printed by several outlets")
    overlaps.add_argument("--min-outlets", dest="min_outlets", type=int)
    overlaps.add_argument("--limit", type=int)
    summary = query("summary", "summary of one document")
    summary.add_argument("document")
    search = query("search", "search quotes and documents")
    search.add_argument("text")
    search.add_argument("--limit", type=int)
    sources = query("sources", "outlets and documents")
    sources.add_argument("--limit", type=int)
    speakers = query("speakers", "everyone quoted")
    speakers.add_argument("--limit", type=int)
    digest = query("digest", "what is new")
    digest.add_argument("--since", help="YYYY-MM-DD")
    return parser


def _level(verbose: int, *, serving: bool) -> int:
    """A running bot logs what it does; one-shot commands only warnings, unless -v."""
    if verbose > 1:
        return logging.DEBUG
    return logging.INFO if verbose == 1 or serving else logging.WARNING


if __name__ == "__main__":
    raise SystemExit(main())
