"""The image cache on real files: aging, layouts sniffed with vhdfile, private roots."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

import vhdfile
from nova_hyperv import rules
from nova_hyperv.ops import images
from vhdfile import testimages

MiB = 1 << 20
HOUR = 3600.0
POLICY = images.AgingPolicy(remove_unused=True, original_minimum_age=HOUR,
                            resized_minimum_age=HOUR / 2)


def _file(directory: Path, name: str, age: float) -> Path:
    path = directory / name
    path.write_bytes(b"x")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> images.ImageCache:
    found = images.ImageCache(str(tmp_path))
    os.makedirs(found.base_dir)
    return found


def test_aging_keeps_and_touches_used_images_removes_old_unused_ones(
        cache: images.ImageCache) -> None:
    base = Path(cache.base_dir)
    used, old, young, iso = (str(uuid.uuid4()) for _ in range(4))
    _file(base, f"{used}.vhdx", 5 * HOUR)
    _file(base, f"{used}_1073741824.vhd", 5 * HOUR)  # its grown VHD copy: in use too
    _file(base, f"{old}.vhd", 2 * HOUR)
    _file(base, f"{old}_2147483648.vhd", 2 * HOUR)
    _file(base, f"{young}.vhdx", HOUR / 4)
    _file(base, f"{iso}.iso", 2 * HOUR)  # ISOs age like the others
    _file(base, "notes.txt", 100 * HOUR)  # not ours: left alone

    report = cache.age({used.upper()}, POLICY)

    assert sorted(report.kept) == sorted([f"{used}.vhdx", f"{used}_1073741824.vhd"])
    assert sorted(report.removed) == sorted([f"{old}.vhd", f"{old}_2147483648.vhd",
                                             f"{iso}.iso"])
    assert report.waiting == [f"{young}.vhdx"]
    assert sorted(os.listdir(base)) == sorted([f"{used}.vhdx", f"{used}_1073741824.vhd",
                                               f"{young}.vhdx", "notes.txt"])
    assert time.time() - os.stat(base / f"{used}.vhdx").st_mtime < 60


def test_resized_copies_have_their_own_minimum_age(cache: images.ImageCache) -> None:
    image = str(uuid.uuid4())
    _file(Path(cache.base_dir), f"{image}_1073741824.vhd", 0.75 * HOUR)
    _file(Path(cache.base_dir), f"{image}.vhd", 0.75 * HOUR)
    report = cache.age(set(), POLICY)
    assert (report.removed, report.waiting) == ([f"{image}_1073741824.vhd"],
                                                [f"{image}.vhd"])


def test_an_interrupted_download_is_removed_even_for_a_used_image(
        cache: images.ImageCache) -> None:
    image = str(uuid.uuid4())
    _file(Path(cache.base_dir), f"{image}.part", 2 * HOUR)
    assert cache.age({image}, POLICY).removed == [f"{image}.part"]


def test_removal_off_keeps_everything(cache: images.ImageCache) -> None:
    image = str(uuid.uuid4())
    _file(Path(cache.base_dir), f"{image}.vhdx", 100 * HOUR)
    report = cache.age(set(), images.AgingPolicy(remove_unused=False))
    assert (report.removed, report.waiting) == ([], [f"{image}.vhdx"])


def test_lock_files_of_removed_images_go_too(cache: images.ImageCache) -> None:
    image = str(uuid.uuid4())
    with cache.lock(image):
        pass
    lock_file = Path(cache.lock_dir) / f"nova-hyperv-image-{image}"
    assert lock_file.exists()
    _file(Path(cache.base_dir), f"{image}.vhdx", 2 * HOUR)
    cache.age(set(), POLICY)
    assert not lock_file.exists()


def test_no_cache_folder_is_an_empty_pass(tmp_path: Path) -> None:
    report = images.ImageCache(str(tmp_path / "nothing")).age(set(), POLICY)
    assert (report.kept, report.removed, report.waiting) == ([], [], [])


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: testimages.mbr_bios_image(p, format="vhdx"),
     rules.ImageLayout("mbr", bios_boot=True)),
    (lambda p: testimages.gpt_uefi_image(p),
     rules.ImageLayout("gpt", esp=True, efi_loader="\\EFI\\BOOT\\BOOTX64.EFI")),
    (lambda p: testimages.gpt_uefi_image(p, bios_boot=True),
     rules.ImageLayout("gpt", bios_boot=True, esp=True,
                       efi_loader="\\EFI\\BOOT\\BOOTX64.EFI")),
    (lambda p: testimages.gpt_uefi_image(p, loader=None), rules.ImageLayout("gpt", esp=True)),
    (lambda p: vhdfile.create(p, "vhdx", "dynamic", 8 * MiB), rules.ImageLayout("none")),
])
def test_layouts_are_sniffed_from_the_disk(tmp_path: Path, make: object,
                                           expected: rules.ImageLayout) -> None:
    path = tmp_path / "image.vhdx"
    make(path)  # type: ignore[operator]
    assert images.sniff_layout(str(path)) == expected


def test_a_damaged_gpt_is_unknown_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "image.vhdx"
    testimages.gpt_uefi_image(path)
    with vhdfile.open_disk(path, writable=True) as disk:
        for lba in (1, disk.virtual_size // 512 - 1):  # both GPT headers
            disk.write(lba * 512, b"\0" * 512)
    assert images.sniff_layout(str(path)) == rules.ImageLayout("unknown")


def test_file_facts_carry_the_layout_only_for_the_preflight(tmp_path: Path) -> None:
    path = tmp_path / "image.vhdx"
    info = testimages.gpt_uefi_image(path)
    image = images.CachedImage("img", str(path), "vhdx", info)
    assert "layout" not in image.file_facts()
    assert image.file_facts(preflight=True)["layout"].efi_loader == "\\EFI\\BOOT\\BOOTX64.EFI"


def test_a_private_image_becomes_the_root_itself(tmp_path: Path) -> None:
    # unshelve: the snapshot was fetched into the instance's folder, not the cache
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    private = instance_dir / "snapshot.vhdx"
    info = testimages.mbr_bios_image(private, format="vhdx", size=16 * MiB)
    image = images.CachedImage("snapshot", str(private), "vhdx", info, cached=False)
    request = rules.InstanceRequest(
        flavor=rules.Flavor(1, 512, 1),
        image=rules.Image(id="snapshot", disk_format="vhdx", **image.file_facts()),
        instance=rules.Instance(str(uuid.uuid4()), "instance-1", "guest"))
    host = rules.HostFacts(windows_version=(10, 0, 20348), logical_processors=4,
                           numa_nodes=(rules.HostNumaNode(memory_mb=8192,
                                                          logical_processors=4),))
    plan = rules.plan_instance(request, host)
    files = images.create_local_disks(images.ImageCache(str(tmp_path)), image, plan,
                                      str(instance_dir), use_cow=True)
    root = vhdfile.inspect(files["root"])
    assert not private.exists()
    assert (str(root.type), root.virtual_size) == ("dynamic", plan.root_virtual_size)
    assert not os.path.exists(os.path.join(tmp_path, "_base"))
