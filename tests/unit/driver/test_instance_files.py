"""Moving an instance's files between hosts: paths, moves, copies, the shared-storage probe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nova_hyperv.ops import instance_files
from nova_hyperv.ops.instance_files import SourceFiles


@pytest.mark.parametrize(("path", "share", "expected"), [
    # the administrative share of the drive
    ("C:\\OpenStack\\Instances", None, "\\\\HV1\\C$\\OpenStack\\Instances"),
    ("D:\\vms", "", "\\\\HV1\\D$\\vms"),
    # [hyperv] instances_path_share names the share that maps to instances_path
    ("C:\\OpenStack\\Instances", "instances", "\\\\HV1\\instances"),
    ("C:\\OpenStack\\Instances", "\\instances\\", "\\\\HV1\\instances"),
    # instances on an SMB share already: every host sees the same path
    ("\\\\fs1\\nova\\instances", "instances", "\\\\fs1\\nova\\instances"),
    # a cluster shared volume is mounted alike on every node
    ("C:\\ClusterStorage\\Volume1\\Instances", None, "C:\\ClusterStorage\\Volume1\\Instances"),
])
def test_windows_remote_path(path: str, share: str | None, expected: str) -> None:
    assert instance_files.windows_remote_path("HV1", path, share) == expected


def test_windows_remote_path_refuses_a_relative_path() -> None:
    with pytest.raises(ValueError, match="not an absolute Windows path"):
        instance_files.windows_remote_path("HV1", "instances")


def test_source_folder_on_windows_and_emulated() -> None:
    source = SourceFiles("HV1", "C:\\OpenStack\\Instances", "u1_revert", ("root.vhdx",))
    assert instance_files.source_folder(source, emulated=False) == \
        "\\\\HV1\\C$\\OpenStack\\Instances\\u1_revert"
    assert instance_files.source_folder(source, emulated=False, share="nova") == \
        "\\\\HV1\\nova\\u1_revert"
    local = SourceFiles("HV1", "/srv/hv1/instances", "u1_revert", ())
    assert instance_files.source_folder(local, emulated=True) == "/srv/hv1/instances/u1_revert"


def test_source_files_round_trip_through_json() -> None:
    source = SourceFiles("HV1", "/srv/i", "u_revert", ("eph0.vhdx", "root.vhdx"))
    assert SourceFiles.from_json(source.to_json()) == source
    with pytest.raises(ValueError, match="does not say where the source host left"):
        SourceFiles.from_json("/srv/i/u_revert")  # compute-hyperv's plain path


def test_the_location_kept_in_system_metadata_names_no_files_and_fits_255() -> None:
    uuid = "6f1c2d3e-4b5a-4c6d-8e7f-901234567890"
    files = ("root.vhdx", "eph0.vhdx", "eph1.vhdx", "eph2.vhdx", "swap.vhdx",
             "configdrive.vhd", "console.log", "console.log.1")
    source = SourceFiles("HYPERV-HOST-01", "D:\\Hyper-V\\OpenStack\\Instances",
                         f"{uuid}_revert", files)
    assert len(source.to_json()) > 255  # the whole disk_info would not fit
    location = source.location_json()
    assert len(location) <= 255
    assert SourceFiles.from_json(location) == SourceFiles(
        source.host, source.instances_path, source.folder, ())


def _files(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name)


def test_move_files_moves_top_level_files_only(tmp_path: Path) -> None:
    source, aside = tmp_path / "u", tmp_path / "u_revert"
    _files(source, "root.vhdx", "eph0.vhdx")
    _files(source / "Virtual Machines", "GUID.vmcx")  # Hyper-V's configuration stays
    assert instance_files.move_files(str(source), str(aside)) == ["eph0.vhdx", "root.vhdx"]
    assert sorted(os.listdir(aside)) == ["eph0.vhdx", "root.vhdx"]
    assert os.listdir(source) == ["Virtual Machines"]


def test_move_files_puts_back_what_it_moved_when_one_fails(tmp_path: Path) -> None:
    source, aside = tmp_path / "u", tmp_path / "u_revert"
    _files(source, "a.vhdx", "b.vhdx")
    (aside / "b.vhdx").mkdir(parents=True)  # a folder in the way: b cannot move
    with pytest.raises(OSError):
        instance_files.move_files(str(source), str(aside))
    assert sorted(os.listdir(source)) == ["a.vhdx", "b.vhdx"]
    assert os.listdir(aside) == ["b.vhdx"]


def test_copy_files_all_or_nothing(tmp_path: Path) -> None:
    source, target = tmp_path / "src", tmp_path / "dst"
    _files(source, "root.vhdx")
    with pytest.raises(FileNotFoundError):
        instance_files.copy_files(str(source), ["root.vhdx", "eph0.vhdx"], str(target))
    assert os.listdir(target) == []  # neither the copy nor a partial file is left
    copied = instance_files.copy_files(str(source), ["root.vhdx"], str(target))
    assert copied == [str(target / "root.vhdx")]
    assert (target / "root.vhdx").read_text() == "root.vhdx"


def test_copy_files_refuses_a_path_for_a_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a file name"):
        instance_files.copy_files(str(tmp_path), ["../x"], str(tmp_path / "d"))


def test_probe_is_seen_only_where_the_storage_is_shared(tmp_path: Path) -> None:
    one, two = str(tmp_path / "host1"), str(tmp_path / "host2")
    name = instance_files.make_probe(one)
    assert instance_files.probe_exists(one, name)
    assert not instance_files.probe_exists(two, name)
    instance_files.remove_probe(one, name)
    assert not instance_files.probe_exists(one, name)
    instance_files.remove_probe(one, name)  # gone already: fine
    with pytest.raises(ValueError, match="not a shared-storage probe"):
        instance_files.probe_exists(one, "../etc/passwd")
