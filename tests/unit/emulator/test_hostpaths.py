"""How the emulated host maps the paths clients give to local files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperv_emulator.hostpaths import HostPaths, PathError, files_root, share_key


@pytest.fixture
def paths(tmp_path: Path) -> HostPaths:
    return HostPaths(tmp_path / "h.db.files", {"\\\\Filer\\Vols": str(tmp_path / "export")})


def test_drive_paths_live_under_the_files_root(paths: HostPaths, tmp_path: Path) -> None:
    assert files_root(tmp_path / "h.db") == tmp_path / "h.db.files"
    assert paths.local("C:\\VMs\\a.vhdx") == tmp_path / "h.db.files/drives/c/VMs/a.vhdx"
    assert paths.local("d:/x/y.iso") == tmp_path / "h.db.files/drives/d/x/y.iso"
    assert paths.local("\\\\?\\C:\\VMs\\a.vhdx") == paths.local("C:\\VMs\\a.vhdx")
    # `..` never leaves the drive
    assert paths.local("C:\\..\\..\\etc\\passwd") == tmp_path / "h.db.files/drives/c/etc/passwd"


def test_names_match_case_insensitively_when_the_file_exists(paths: HostPaths) -> None:
    real = paths.local("C:\\VMs\\Disk.VHDX")
    real.parent.mkdir(parents=True)
    real.write_bytes(b"x")
    assert paths.local("c:\\vms\\disk.vhdx") == real
    assert paths.local("C:\\vms\\new.vhdx") == real.parent / "new.vhdx"


def test_shares_and_local_paths(paths: HostPaths, tmp_path: Path) -> None:
    assert paths.local("\\\\filer\\vols\\v\\a.vhdx") == tmp_path / "export/v/a.vhdx"
    assert paths.local("\\\\?\\UNC\\FILER\\VOLS\\a.vhdx") == tmp_path / "export/a.vhdx"
    assert paths.local("/var/lib/x/../y.vhdx") == Path("/var/lib/y.vhdx")
    assert share_key("\\\\Filer\\Vols") == "\\\\filer\\vols"


@pytest.mark.parametrize(("text", "missing"), [
    ("\\\\other\\share\\a.vhdx", True), ("relative\\a.vhdx", False), ("", False),
    ("\\\\.\\pipe\\x", False), ("a.vhdx", False)])
def test_refused_paths(paths: HostPaths, text: str, missing: bool) -> None:
    with pytest.raises(PathError) as caught:
        paths.local(text)
    assert caught.value.missing is missing


def test_a_drive_letter_mapped_to_a_share(tmp_path: Path) -> None:
    paths = HostPaths(tmp_path / "f", {"\\\\filer\\vols": str(tmp_path / "export")},
                      {"S": "\\\\filer\\vols"})
    assert paths.local("s:\\a\\b.vhdx") == tmp_path / "export/a/b.vhdx"
    assert paths.local("T:\\b.vhdx") == tmp_path / "f/drives/t/b.vhdx"
