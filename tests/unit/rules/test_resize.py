"""Cold resize rules: ephemeral disks follow the new flavor, disks never shrink."""

from __future__ import annotations

import pytest
from tests.unit.rules.builders import GIB, WS2022, make_request, plan

from nova_hyperv.rules import (
    DiskLayout,
    Ephemeral,
    Flavor,
    LocalDisks,
    RuleViolation,
    check_resize_disks,
    plan_resize,
    resized_ephemerals,
)

VHDX = DiskLayout("vhdx")


def test_ephemeral_gb_zero_removes_them() -> None:
    assert resized_ephemerals((Ephemeral(1), Ephemeral(1)), 0) == ()


def test_a_single_ephemeral_takes_the_new_size_and_keeps_its_place() -> None:
    [eph] = resized_ephemerals((Ephemeral(1, bus="ide", boot_index=1, tag="data"),), 3)
    assert eph == Ephemeral(3, bus="ide", boot_index=1, tag="data")


def test_several_ephemerals_keep_their_sizes() -> None:
    several = (Ephemeral(1), Ephemeral(2))
    assert resized_ephemerals(several, 5) == several


def test_no_ephemeral_yet_gets_the_flavors_default() -> None:
    new = plan_resize(plan(ephemeral=0), make_request(ephemeral=2), WS2022)
    assert [(d.name, d.size_bytes) for d in new.disks if d.kind == "ephemeral"] == [
        ("eph0", 2 * GIB)]


def test_resize_to_no_ephemeral_drops_what_nova_still_records() -> None:
    before = plan(ephemeral=2, ephemerals=(Ephemeral(2),))
    after = plan_resize(before, make_request(ephemeral=0, ephemerals=(Ephemeral(2),)), WS2022)
    assert [d.kind for d in after.disks] == ["root"]


def test_a_single_recorded_ephemeral_grows_with_the_flavor() -> None:
    before = plan(ephemeral=1, ephemerals=(Ephemeral(1, tag="scratch"),))
    recorded = (Ephemeral(1, tag="scratch"),)
    after = plan_resize(before, make_request(ephemeral=4, ephemerals=recorded), WS2022)
    eph = after.disk("eph0")
    assert (eph.size_bytes, eph.tag) == (4 * GIB, "scratch")


def test_several_ephemerals_may_not_lose_space() -> None:
    several = (Ephemeral(1), Ephemeral(2))
    with pytest.raises(RuleViolation) as caught:
        plan_resize(plan(ephemeral=3, ephemerals=several),
                    make_request(ephemeral=2, ephemerals=several), WS2022)
    error = caught.value
    assert (error.code, error.field, error.value) == (
        "resize-ephemeral-disk-smaller", "ephemeral_gb", 2)
    assert "eph0.vhdx 1073741824 bytes (1.00 GiB)" in error.reason
    assert "eph1.vhdx 2147483648 bytes (2.00 GiB)" in error.reason
    assert "at least 3" in error.allowed


def test_source_check_names_the_root_file_and_both_sizes() -> None:
    current = LocalDisks(root_file="root.vhdx", root_size=3 * GIB)
    with pytest.raises(RuleViolation) as caught:
        check_resize_disks(current, VHDX, Flavor(1, 1024, 2))
    error = caught.value
    assert (error.code, error.field, error.value) == ("resize-root-disk-smaller", "root_gb", 2)
    assert "root.vhdx holds 3221225472 bytes (3.00 GiB)" in error.reason
    assert "at most 2 GiB holds" in error.reason
    assert error.allowed == "root_gb >= 4"  # a 3 GiB disk needs a file a little larger


@pytest.mark.parametrize("root_gb", [0, 4, 40])
def test_source_check_lets_the_root_grow_or_stay(root_gb: int) -> None:
    check_resize_disks(LocalDisks(root_file="root.vhdx", root_size=3 * GIB), VHDX,
                       Flavor(1, 1024, root_gb))


def test_source_check_refuses_shrinking_ephemerals() -> None:
    current = LocalDisks(ephemerals=(("eph0.vhdx", 2 * GIB),))
    with pytest.raises(RuleViolation) as caught:
        check_resize_disks(current, None, Flavor(1, 1024, 1, ephemeral_gb=1))
    assert caught.value.code == "resize-ephemeral-disk-smaller"
    check_resize_disks(current, None, Flavor(1, 1024, 1, ephemeral_gb=0))  # removed: fine


def test_source_check_reads_the_flavor_like_planning_does() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_resize_disks(LocalDisks(), None, Flavor(1, 1024, "big"))  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.field) == ("flavor-invalid", "root_gb")


def test_destination_plan_checks_the_disks_as_they_are() -> None:
    # The root file's facts stand in for the image (its size unset): the new size is
    # the largest the flavor allows, which must hold the disk as it is now.
    current = LocalDisks(root_file="root.vhdx", root_size=30 * GIB)
    request = make_request(disk=20, file_format="vhdx")
    with pytest.raises(RuleViolation) as caught:
        plan_resize(current, request, WS2022)
    assert caught.value.code == "resize-root-disk-smaller"
    grown = plan_resize(current, make_request(disk=40, file_format="vhdx"), WS2022)
    assert grown.root_virtual_size is not None and grown.root_virtual_size > 30 * GIB


def test_local_disks_of_a_plan() -> None:
    disks = LocalDisks.of_plan(plan(disk=20, ephemeral=3, ephemerals=(Ephemeral(1), Ephemeral(2))))
    assert disks.root_file == "root.vhdx"
    assert disks.ephemerals == (("eph0.vhdx", GIB), ("eph1.vhdx", 2 * GIB))
    assert disks.ephemeral_bytes == 3 * GIB
