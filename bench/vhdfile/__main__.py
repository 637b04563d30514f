"""Benchmark: vhdfile against qemu-img on 1 GiB files, side by side.

Run:  .venv/bin/python bench/vhdfile [--size-gib N] [--repeat N]

Prints, for create / convert / inspect / full read, the best of N runs for vhdfile and
for qemu-img and the ratio (vhdfile time / qemu-img time: below 1.0 is faster). The
source image holds 256 MiB of random data in every fourth 32 MiB block of the disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import vhdfile

MiB = 1024 * 1024


def best(repeat: int, setup: Callable[[], None], action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def remove(*paths: Path) -> Callable[[], None]:
    def clean() -> None:
        for p in paths:
            p.unlink(missing_ok=True)

    return clean


def read_all(path: Path) -> None:
    with vhdfile.open_disk(path) as disk:
        for _offset, _chunk in disk.iter_chunks(64 * MiB):
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    qemu_img = shutil.which("qemu-img")
    qemu_io = shutil.which("qemu-io")
    if not qemu_img or not qemu_io:
        print("qemu-img / qemu-io not found: run scripts/setup", file=sys.stderr)
        return 1
    size = args.size_gib * 1024 * MiB
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        d = Path(tmp)
        ours, theirs = d / "ours.vhdx", d / "theirs.vhdx"

        # create
        rows.append(
            (
                "create dynamic VHDX",
                best(
                    args.repeat, remove(ours), lambda: vhdfile.create(ours, "vhdx", "dynamic", size)
                ),
                best(
                    args.repeat,
                    remove(theirs),
                    lambda: run(
                        qemu_img,
                        "create",
                        "-q",
                        "-f",
                        "vhdx",
                        "-o",
                        "block_size=32M",
                        str(theirs),
                        str(size),
                    ),
                ),
            )
        )
        rows.append(
            (
                "create fixed VHDX",
                best(
                    args.repeat, remove(ours), lambda: vhdfile.create(ours, "vhdx", "fixed", size)
                ),
                best(
                    args.repeat,
                    remove(theirs),
                    lambda: run(
                        qemu_img,
                        "create",
                        "-q",
                        "-f",
                        "vhdx",
                        "-o",
                        "subformat=fixed,block_size=32M",
                        str(theirs),
                        str(size),
                    ),
                ),
            )
        )
        rows.append(
            (
                "create dynamic VHD",
                best(
                    args.repeat,
                    remove(ours),
                    lambda: (
                        vhdfile.create(ours.with_suffix(".vhd"), "vhd", "dynamic", size)
                        and ours.with_suffix(".vhd").unlink()
                    ),
                ),
                best(
                    args.repeat,
                    remove(theirs),
                    lambda: run(
                        qemu_img,
                        "create",
                        "-q",
                        "-f",
                        "vpc",
                        "-o",
                        "force_size=on",
                        str(theirs),
                        str(size),
                    ),
                ),
            )
        )

        # a source with data: every fourth 32 MiB block holds 32 MiB of random bytes
        src = d / "src.vhdx"
        src.unlink(missing_ok=True)
        vhdfile.create(src, "vhdx", "dynamic", size)
        with vhdfile.open_disk(src, writable=True) as disk:
            for offset in range(0, size, 128 * MiB):
                disk.write(offset, os.urandom(32 * MiB))
        src_vhd = d / "src.vhd"
        vhdfile.convert(src, src_vhd, "vhd")
        out_vhd, out_vhdx = d / "out.vhd", d / "out.vhdx"
        conversions = [
            ("VHDX -> VHD dynamic", src, out_vhd, ("vhd",),
             ("-f", "vhdx", "-O", "vpc", "-o", "subformat=dynamic,force_size=on")),
            ("VHD -> VHDX dynamic", src_vhd, out_vhdx, ("vhdx",),
             ("-f", "vpc", "-O", "vhdx", "-o", "block_size=32M")),
            ("VHDX -> VHDX fixed", src, out_vhdx, ("vhdx", "fixed"),
             ("-f", "vhdx", "-O", "vhdx", "-o",
              "subformat=fixed,block_size=32M,block_state_zero=off")),
        ]
        # qemu-img convert never fsyncs its output; vhdfile.convert does by default
        # (durable=True) before it publishes the file. Compare like with like: without
        # fsync on both sides, then durable vhdfile against qemu-img followed by a sync
        # of the output file.
        for durable in (False, True):
            for label, source, target, kind, qemu_args in conversions:
                def ours(source=source, target=target, kind=kind, durable=durable) -> None:
                    vhdfile.convert(source, target, *kind, durable=durable)

                def theirs(source=source, target=target, qemu_args=qemu_args,
                           durable=durable) -> None:
                    run(qemu_img, "convert", *qemu_args, str(source), str(target))
                    if durable:
                        run("sync", "-d", str(target))

                suffix = ", durable (fsync / + sync)" if durable else ""
                rows.append((
                    f"convert {label}{suffix}",
                    best(args.repeat, remove(target), ours),
                    best(args.repeat, remove(target), theirs),
                ))

        nothing = lambda: None  # noqa: E731
        rows.append(
            (
                "inspect VHDX (in process)",
                best(args.repeat, nothing, lambda: vhdfile.inspect(src)),
                best(args.repeat, nothing, lambda: run(qemu_img, "info", "-f", "vhdx", str(src))),
            )
        )
        cli = [str(Path(sys.executable).with_name("nova-hyperv")), "image", "inspect", str(src)]
        rows.append(
            (
                "inspect VHDX (CLI process)",
                best(args.repeat, nothing, lambda: run(*cli)),
                best(args.repeat, nothing, lambda: run(qemu_img, "info", "-f", "vhdx", str(src))),
            )
        )
        for label, path, fmt in (
            ("full read VHDX", src, "vhdx"),
            ("full read VHD", src_vhd, "vpc"),
        ):
            rows.append(
                (
                    label,
                    best(args.repeat, nothing, lambda p=path: read_all(p)),
                    best(
                        args.repeat,
                        nothing,
                        lambda p=path, f=fmt: run(qemu_io, "-f", f, "-c", f"read 0 {size}", str(p)),
                    ),
                )
            )

    width = max(len(r[0]) for r in rows)
    print(
        f"vhdfile vs qemu-img, {args.size_gib} GiB files, best of {args.repeat} "
        f"(ratio = vhdfile / qemu-img; below 1.0 is faster)"
    )
    print(f"{'operation':{width}}  {'vhdfile s':>10}  {'qemu-img s':>10}  {'ratio':>6}")
    for label, ours_t, theirs_t in rows:
        print(f"{label:{width}}  {ours_t:10.4f}  {theirs_t:10.4f}  {ours_t / theirs_t:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
