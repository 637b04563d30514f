"""`nova-hyperv image`: inspect, create, resize and convert VHD / VHDX files.

Operators use it to check an image before uploading it to Glance: its real format (from
the content, not the name), sizes, boot mode and the smallest flavor root disk it fits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import vhdfile
from vhdfile.partitions import sniff_boot
from vhdfile.sizes import minimum_flavor_root_gb

EXIT_FAILURE, EXIT_REJECTED = 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "image", help="inspect, create, resize and convert VHD/VHDX files"
    )
    sub = parser.add_subparsers(dest="image_command", metavar="ACTION", required=True)

    p = sub.add_parser(
        "inspect", help="describe an image: format, sizes, boot mode, minimum flavor"
    )
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_guard(_inspect))

    p = sub.add_parser("create", help="create a new VHD/VHDX file")
    p.add_argument("file")
    p.add_argument("--format", choices=["vhd", "vhdx"], help="default: from the file extension")
    p.add_argument("--type", choices=["fixed", "dynamic", "differencing"], default="dynamic")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--size", type=_size, help="virtual size in bytes (K, M, G, T suffixes)")
    size.add_argument("--parent", help="parent of a differencing disk")
    p.add_argument("--block-size", type=_size)
    p.set_defaults(handler=_guard(_create))

    p = sub.add_parser("resize", help="grow (or shrink a VHDX down to its data)")
    p.add_argument("file")
    p.add_argument("--size", type=_size, required=True)
    p.set_defaults(handler=_guard(_resize))

    p = sub.add_parser("convert", help="convert between VHD and VHDX, fixed and dynamic")
    p.add_argument("source")
    p.add_argument("destination")
    p.add_argument("--format", choices=["vhd", "vhdx"], required=True)
    p.add_argument("--type", choices=["fixed", "dynamic"], default="dynamic")
    p.add_argument("--block-size", type=_size)
    p.set_defaults(handler=_guard(_convert))


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _size(text: str) -> int:
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1] if value and value[-1] in "KMGT" else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (bytes, or with K/M/G/T)")
    return int(number) * _UNITS[unit]


def _guard(action):  # type: ignore[no-untyped-def]
    """Exit 2 for a bad image or a refused request, 1 for anything else, with a message."""

    def run(args: argparse.Namespace) -> int:
        try:
            return action(args) or 0
        except vhdfile.VhdError as exc:
            print(f"nova-hyperv image: {exc}", file=sys.stderr)
            return EXIT_REJECTED
        except FileExistsError as exc:
            print(f"nova-hyperv image: {exc.filename}: the file already exists", file=sys.stderr)
            return EXIT_REJECTED
        except OSError as exc:
            print(f"nova-hyperv image: {exc}", file=sys.stderr)
            return EXIT_FAILURE

    return run


def describe(path: str) -> dict[str, Any]:
    """What `inspect` prints, as a dict (also used by --json)."""
    info = vhdfile.inspect(path)
    report: dict[str, Any] = {
        "format": str(info.format),
        "type": str(info.type),
        "virtual_size": info.virtual_size,
        "file_size": info.file_size,
        "block_size": info.block_size,
        "logical_sector_size": info.logical_sector_size,
        "physical_sector_size": info.physical_sector_size,
        "parent": info.parent_path,
        "virtual_disk_id": str(info.virtual_disk_id),
    }
    try:
        with vhdfile.open_disk(path) as disk:
            boot = sniff_boot(disk)
        report["partition_table"] = boot.table.scheme
        report["boot"] = {"bios": boot.bios, "uefi": boot.uefi, "efi_loader": boot.efi_loader}
    except vhdfile.ParentError:
        report["partition_table"] = None
        report["boot"] = None
    report["minimum_flavor_root_gb"] = minimum_flavor_root_gb(info)
    return report


def _inspect(args: argparse.Namespace) -> int:
    report = describe(args.file)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for key, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{key:22} {value}")
    return 0


def _create(args: argparse.Namespace) -> int:
    fmt = args.format or vhdfile.format_for_path(args.file)
    dtype = "differencing" if args.parent else args.type
    info = vhdfile.create(
        args.file, fmt, dtype, args.size, block_size=args.block_size, parent=args.parent
    )
    print(f"created {info.path}: {info.format} {info.type}, {info.virtual_size} bytes")
    return 0


def _resize(args: argparse.Namespace) -> int:
    info = vhdfile.resize(args.file, args.size)
    print(f"resized {info.path}: {info.virtual_size} bytes")
    return 0


def _convert(args: argparse.Namespace) -> int:
    bar = ProgressBar("converting") if sys.stderr.isatty() else None
    try:
        info = vhdfile.convert(
            args.source,
            args.destination,
            args.format,
            args.type,
            block_size=args.block_size,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    print(f"converted to {info.path}: {info.format} {info.type}, file {info.file_size} bytes")
    return 0


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, width: int = 40) -> None:
        self.label, self.width, self._last = label, width, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {frac:6.1%}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
