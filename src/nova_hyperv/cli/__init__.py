"""`nova-hyperv`: one command, one module per subcommand group.

Each module under this package (plan, image, host, cloud, ...) exposes
`register(subparsers)`, which adds its subcommand and sets `handler` on the parsed
arguments. Modules are imported only when present, so each group stays independent
and start-up stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order shown in --help.
GROUPS = ("plan", "image", "host", "cloud")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_REJECTED = 2  # the request was understood and refused (bad input, rule violation)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that group's module is imported (start-up cost)."""
    parser = argparse.ArgumentParser(
        prog="nova-hyperv",
        description="Hyper-V for OpenStack Nova: plan instances, prepare images, "
        "run an emulated Hyper-V host or a local cloud.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS if only is None else (only,):
        try:
            module = importlib.import_module(f"{__name__}.{group}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{group}":
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `nova-hyperv image inspect X` needs only the image group: importing every group
    # (rules, emulator, vhdfile) would triple the start-up time of a one-shot command.
    only = argv[0] if argv and argv[0] in GROUPS else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    return int(args.handler(args) or EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
