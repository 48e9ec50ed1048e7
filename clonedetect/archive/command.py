"""The ``clonedetect archive add`` and ``archive info`` commands' arguments and output
(the commands themselves are in :mod:`clonedetect.cli`, which owns the connection options)."""

from __future__ import annotations

import argparse

from clonedetect.scanning.languages import LANGUAGES

LOCATION_HELP = "a folder (created by add), milvus-lite:///path/archive.db or milvus://host:19530/collection"


def add_archive_arguments(parser: argparse.ArgumentParser, add_connection) -> None:
    """``archive add`` and ``archive info`` under ``parser``; ``add_connection(parser)``
    adds the server options to the one that needs a server."""
    commands = parser.add_subparsers(dest="archive_command", required=True)
    add = commands.add_parser("add", help="embed past submissions and store them in the archive")
    add.add_argument("submissions", nargs="+", metavar="SUBMISSIONS", help="directories, one submission per entry")
    add.add_argument("--archive", required=True, metavar="PATH_OR_URL", help=LOCATION_HELP)
    add.add_argument("--term", help="the term they were handed in (default: today's date)")
    add.add_argument("--course", help="the course they belong to")
    add.add_argument("--base-code", metavar="DIR", help="code handed to every student: blanked before storing")
    add.add_argument("--author-map", metavar="FILE", help="CSV 'submission,author': stored, so a scan skips the author")
    add.add_argument("--language", choices=LANGUAGES, help="only files of this language (default: by suffix)")
    add_connection(add)
    info = commands.add_parser("info", help="what the archive holds (JSON)")
    info.add_argument("--archive", required=True, metavar="PATH_OR_URL", help=LOCATION_HELP)
