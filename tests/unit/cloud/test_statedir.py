"""The cloud's folder: created once, refused when it holds someone else's files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from nova_hyperv.cloud.statedir import StateDir, StateDirError, accounts


def test_first_start_makes_the_folders_and_a_private_manifest(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "cloud")
    assert state.prepare() is True
    for folder in (state.db, state.images, state.volumes, state.nova, state.etc,
                   state.log.parent):
        assert folder.is_dir()
    manifest = state.load_or_create_manifest()
    assert stat.S_IMODE(state.manifest.stat().st_mode) == 0o600
    people = accounts(manifest)
    assert set(people) == {"admin", "demo", "nova"}
    assert "admin" in people["admin"].roles and "admin" not in people["demo"].roles
    assert people["admin"].project_id != people["demo"].project_id


def test_later_starts_keep_the_accounts_and_secret(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    first = state.load_or_create_manifest()
    assert state.prepare() is False
    assert StateDir(tmp_path).load_or_create_manifest() == first


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("mine")
    with pytest.raises(StateDirError, match=r"not empty and holds no cloud\.json"):
        StateDir(tmp_path).prepare()


def test_a_file_is_not_a_state_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(StateDirError, match="is not a folder"):
        StateDir(tmp_path / "f").prepare()


def test_a_manifest_of_another_format_is_refused(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    state.manifest.write_text('{"format": 99}')
    with pytest.raises(StateDirError, match="format 99"):
        state.load_or_create_manifest()
