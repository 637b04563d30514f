"""`nova-hyperv image`: inspect / create / resize / convert and their exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vhdfile
from nova_hyperv.cli import main
from vhdfile.testimages import gpt_uefi_image

MiB = 1024 * 1024


def test_inspect_json_reports_everything(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "uefi.vhd.bin"  # the name says nothing; the content does
    gpt_uefi_image(path, size=64 * MiB)
    assert main(["image", "inspect", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "vhdx" and report["type"] == "dynamic"
    assert report["virtual_size"] == 64 * MiB and report["block_size"] == 32 * MiB
    assert (report["logical_sector_size"], report["physical_sector_size"]) == (512, 4096)
    assert report["file_size"] == path.stat().st_size and report["parent"] is None
    assert report["partition_table"] == "gpt"
    assert report["boot"] == {"bios": False, "uefi": True, "efi_loader": r"\EFI\BOOT\BOOTX64.EFI"}
    assert report["minimum_flavor_root_gb"] == 1


def test_inspect_text(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    vhdfile.create(tmp_path / "d.vhd", "vhd", "dynamic", 2 * 1024 * MiB)
    assert main(["image", "inspect", str(tmp_path / "d.vhd")]) == 0
    out = capsys.readouterr().out
    assert "minimum_flavor_root_gb 3" in out and "format                 vhd" in out


def test_create_resize_convert(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base, child = tmp_path / "b.vhdx", tmp_path / "c.vhdx"
    assert main(["image", "create", str(base), "--size", "64M", "--type", "fixed"]) == 0
    assert vhdfile.inspect(base).type is vhdfile.DiskType.FIXED
    assert main(["image", "create", str(child), "--parent", str(base)]) == 0
    assert vhdfile.inspect(child).parent_path == str(base)
    assert main(["image", "resize", str(base), "--size", "128M"]) == 0
    assert vhdfile.inspect(base).virtual_size == 128 * MiB
    out = tmp_path / "o.vhd"
    assert main(["image", "convert", str(base), str(out), "--format", "vhd"]) == 0
    assert vhdfile.inspect(out).format is vhdfile.DiskFormat.VHD
    assert "\r" not in capsys.readouterr().err  # no progress bar without a terminal


def test_refusals_exit_2_and_other_failures_1(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    raw = tmp_path / "raw.img"
    raw.write_bytes(bytes(4096))
    assert main(["image", "inspect", str(raw)]) == 2
    assert "not a VHD or VHDX" in capsys.readouterr().err
    vhdfile.create(tmp_path / "d.vhd", "vhd", "dynamic", 8 * MiB)
    assert main(["image", "resize", str(tmp_path / "d.vhd"), "--size", "4M"]) == 2
    assert main(["image", "create", str(tmp_path / "d.vhd"), "--size", "1M"]) == 2
    assert main(["image", "create", str(tmp_path / "x.qcow2"), "--size", "1M"]) == 2
    assert main(["image", "inspect", str(tmp_path / "missing.vhd")]) == 1
    assert "No such file" in capsys.readouterr().err
