"""Boot order: gen1 device classes (ISO first when the image is one), gen2 by boot_index."""

from __future__ import annotations

from nova_hyperv.rules import Ephemeral, Vif, Volume

from .builders import GEN2, plan

NIC = (Vif("port-a", "fa:16:3e:00:00:01"),)


def test_generation_1_boots_the_hard_drive_first() -> None:
    assert plan().boot_order == ("harddrive", "cdrom", "network", "floppy")


def test_generation_1_boots_an_iso_image_from_cdrom_first() -> None:
    assert plan(disk_format="iso").boot_order == ("cdrom", "harddrive", "network", "floppy")


def test_generation_1_boot_from_volume_is_a_hard_drive() -> None:
    assert plan(disk_format=None, root_volume=Volume("boot")).boot_order[0] == "harddrive"


def test_generation_2_orders_disks_by_boot_index_unset_last() -> None:
    vm = plan(
        props=GEN2, ephemeral=2, swap=64, config_drive=True, vifs=NIC,
        ephemerals=(Ephemeral(1), Ephemeral(1, boot_index=2)),
        volumes=(Volume("v-late"), Volume("v-first", boot_index="1"),
                 Volume("v-none", boot_index=-1), Volume("v-two", boot_index=2)),
    )
    assert vm.boot_order == (
        "root", "v-first", "eph1", "v-two", "eph0", "v-late", "v-none", "port-a", "swap",
        "configdrive",
    )


def test_generation_2_volume_may_boot_before_the_root() -> None:
    # Boot index 0 is the root's; an equal index keeps request order, root first.
    vm = plan(props=GEN2, volumes=(Volume("v0", boot_index=0),))
    assert vm.boot_order[:2] == ("root", "v0")


def test_generation_2_iso_root() -> None:
    assert plan(props=GEN2, disk_format="iso", vifs=NIC).boot_order == ("root", "port-a")
