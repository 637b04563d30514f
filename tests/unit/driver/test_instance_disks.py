"""Local disk files through a resize: read as they are, reconnected, grown, never shrunk."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from nova import exception
from oslo_concurrency import lockutils
from oslo_config import cfg
from tests.unit.rules.builders import WS2022, make_request

import vhdfile
from nova_hyperv import rules
from nova_hyperv.ops import instance_disks
from nova_hyperv.ops.images import CachedImage, ImageCache

MiB, GiB = 1 << 20, 1 << 30


def _disk(path: Path, size: int, fmt: str = "vhdx", **kw: object) -> str:
    vhdfile.create(str(path), fmt, "dynamic", size, **kw)  # type: ignore[arg-type]
    return str(path)


def _mark(path: str, offset: int, data: bytes) -> None:
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(offset, data)


def _read(path: str, offset: int, length: int) -> bytes:
    with vhdfile.open_disk(path) as disk:
        return disk.read(offset, length)


def _plan(folder: Path, **request: object) -> rules.VmPlan:
    root, _ = instance_disks.read_disks(str(folder))
    assert root is not None
    asked = make_request(**request)  # type: ignore[arg-type]
    asked = dataclasses.replace(asked, image=dataclasses.replace(asked.image, **root.facts()))
    return rules.plan_instance(asked, WS2022, disk_math=root.disk_math())


def test_read_disks_takes_sizes_from_the_files(tmp_path: Path) -> None:
    _disk(tmp_path / "root.vhdx", 64 * MiB)
    _disk(tmp_path / "eph1.vhdx", 2 * MiB)
    _disk(tmp_path / "eph0.vhdx", 4 * MiB)
    _disk(tmp_path / "swap.vhdx", 1 * MiB)
    root, disks = instance_disks.read_disks(str(tmp_path))
    assert root is not None and (root.name, root.format, root.differencing) == (
        "root.vhdx", "vhdx", False)
    assert disks == rules.LocalDisks("root.vhdx", 64 * MiB,
                                     (("eph0.vhdx", 4 * MiB), ("eph1.vhdx", 2 * MiB)))
    assert root.facts() == {"file_format": "vhdx", "block_size": root.info.block_size,  # type: ignore[union-attr]
                            "file_fixed": False}


def test_read_disks_of_an_empty_folder(tmp_path: Path) -> None:
    assert instance_disks.read_disks(str(tmp_path / "none")) == (None, rules.LocalDisks())


def _child(tmp_path: Path, fmt: str, base_size: int = 64 * MiB) -> tuple[str, str, Path]:
    """An image in host A's cache, a root disk made on it, the root copied to host B."""
    cache_a = tmp_path / "a" / "_base"
    cache_a.mkdir(parents=True)
    image = _disk(cache_a / f"img.{fmt}", base_size, fmt)
    _mark(image, 0, b"from the image")
    child = tmp_path / "a" / "u" / f"root.{fmt}"
    child.parent.mkdir()
    vhdfile.create(str(child), fmt, "differencing", parent=image)
    _mark(str(child), 4096, b"from the guest")
    dest = tmp_path / "b" / "u"
    dest.mkdir(parents=True)
    shutil.copyfile(child, dest / child.name)
    cache_b = tmp_path / "b" / "_base"
    cache_b.mkdir()
    return image, str(cache_b / f"img.{fmt}"), dest


def _cache(image: str, cached: str) -> str:
    shutil.copyfile(image, cached)  # host B fetches the same image
    return cached


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_reconnect_points_a_copied_child_at_this_hosts_image(tmp_path: Path, fmt: str) -> None:
    image_a, image_b, dest = _child(tmp_path, fmt)
    root, _ = instance_disks.read_disks(str(dest))
    assert root is not None and root.differencing
    # Host B has no copy yet: the child finds its parent by the absolute path it holds.
    assert os.path.samefile(root.info.parent_path, image_a)  # type: ignore[union-attr, arg-type]
    root = instance_disks.reconnect_root(root, lambda _: _cache(image_a, image_b))
    assert os.path.samefile(vhdfile.inspect(root.path).parent_path, image_b)  # type: ignore[arg-type]
    assert root is instance_disks.reconnect_root(root, lambda _: image_b)  # already there
    os.unlink(image_a)  # the child no longer needs host A's copy
    assert _read(root.path, 0, 14) == b"from the image"


def test_reconnect_refuses_a_different_file(tmp_path: Path) -> None:
    _, _, dest = _child(tmp_path, "vhdx")
    other = _disk(tmp_path / "other.vhdx", 64 * MiB)
    root, _ = instance_disks.read_disks(str(dest))
    with pytest.raises(vhdfile.ParentMismatchError):
        instance_disks.reconnect_root(root, lambda _: other)  # type: ignore[arg-type]


@pytest.mark.parametrize(("fmt", "stays_differencing"), [("vhdx", True), ("vhd", False)])
def test_root_grows_to_the_plan_with_its_data(tmp_path: Path, fmt: str,
                                              stays_differencing: bool) -> None:
    image_a, image_b, dest = _child(tmp_path, fmt)
    root, _ = instance_disks.read_disks(str(dest))
    root = instance_disks.reconnect_root(root, lambda _: _cache(image_a, image_b))  # type: ignore[arg-type]
    plan = _plan(dest, disk=1)  # 1 GiB: the root grows
    prepared = instance_disks.prepare_disks(plan, str(dest), root)
    info = vhdfile.inspect(prepared.files["root"])
    assert info.virtual_size == plan.root_virtual_size
    assert (info.type == vhdfile.DiskType.DIFFERENCING) is stays_differencing
    assert _read(prepared.files["root"], 0, 14) == b"from the image"
    assert _read(prepared.files["root"], 4096, 14) == b"from the guest"
    assert _read(image_b, 4096, 14) == bytes(14)  # the shared parent was not written
    assert sorted(os.listdir(dest)) == [f"root.{fmt}"]  # no merge copy left behind


def test_ephemerals_grow_or_appear_swap_is_made_anew(tmp_path: Path) -> None:
    _disk(tmp_path / "root.vhdx", 64 * MiB)
    eph0 = _disk(tmp_path / "eph0.vhdx", GiB)
    _mark(eph0, 0, b"scratch data")
    _disk(tmp_path / "swap.vhdx", 64 * MiB)
    plan = _plan(tmp_path, disk=0, ephemeral=3, swap=128,
                 ephemerals=(rules.Ephemeral(2), rules.Ephemeral(1)))
    root, _ = instance_disks.read_disks(str(tmp_path))
    prepared = instance_disks.prepare_disks(plan, str(tmp_path), root)
    sizes = {name: vhdfile.inspect(path).virtual_size for name, path in prepared.files.items()}
    assert sizes == {"root": 64 * MiB, "eph0": 2 * GiB, "eph1": GiB, "swap": 128 * MiB}
    assert _read(eph0, 0, 12) == b"scratch data"
    assert prepared.obsolete == ()


def test_a_larger_disk_is_kept_as_it_is_and_dropped_ones_are_listed(tmp_path: Path) -> None:
    _disk(tmp_path / "root.vhdx", 64 * MiB)
    _disk(tmp_path / "eph0.vhdx", 2 * GiB)
    _disk(tmp_path / "eph1.vhdx", GiB)
    _disk(tmp_path / "swap.vhdx", 64 * MiB)
    plan = _plan(tmp_path, disk=0, ephemeral=1)  # one 1 GiB ephemeral, no swap
    root, _ = instance_disks.read_disks(str(tmp_path))
    prepared = instance_disks.prepare_disks(plan, str(tmp_path), root)
    assert vhdfile.inspect(prepared.files["eph0"]).virtual_size == 2 * GiB
    assert sorted(os.path.basename(p) for p in prepared.obsolete) == ["eph1.vhdx", "swap.vhdx"]


def test_a_missing_root_is_disk_not_found_and_created_files_go(tmp_path: Path) -> None:
    _disk(tmp_path / "root.vhdx", 64 * MiB)
    plan = _plan(tmp_path, ephemeral=1)
    root, _ = instance_disks.read_disks(str(tmp_path))
    os.unlink(tmp_path / "root.vhdx")
    # The root comes first in the plan, so nothing is made; put the ephemeral first to
    # see a created file removed again.
    disks = (plan.disks[1], plan.disks[0])
    with pytest.raises(exception.DiskNotFound):
        instance_disks.prepare_disks(rules.VmPlan(**{**plan.__dict__, "disks": disks}),
                                     str(tmp_path), root)
    assert os.listdir(tmp_path) == []


@pytest.fixture
def lock_path(tmp_path: Path) -> Iterator[None]:
    lockutils.get_lock_path(cfg.CONF)  # registers the option
    cfg.CONF.set_override("lock_path", str(tmp_path / "locks"), group="oslo_concurrency")
    yield
    cfg.CONF.clear_override("lock_path", group="oslo_concurrency")


@pytest.mark.usefixtures("lock_path")
def test_resized_base_lets_a_vhd_child_move(tmp_path: Path) -> None:
    """A VHD root made on a grown copy of the image reconnects to this host's copy of
    that grown image, made the same way."""
    image = _disk(tmp_path / "img.vhd", 64 * MiB, "vhd")
    caches = []
    for host in ("a", "b"):
        cache = ImageCache(str(tmp_path / host))
        os.makedirs(cache.base_dir)
        shutil.copyfile(image, os.path.join(cache.base_dir, "img.vhd"))
        cached = CachedImage("img", os.path.join(cache.base_dir, "img.vhd"), "vhd",
                             vhdfile.inspect(image))
        caches.append(cache.resized_base(cached, 128 * MiB))
    child = tmp_path / "u" / "root.vhd"
    child.parent.mkdir()
    vhdfile.create(str(child), "vhd", "differencing", parent=caches[0])
    root, _ = instance_disks.read_disks(str(child.parent))
    root = instance_disks.reconnect_root(root, lambda _: caches[1])  # type: ignore[arg-type]
    assert os.path.samefile(root.info.parent_path, caches[1])  # type: ignore[union-attr, arg-type]
