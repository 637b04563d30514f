"""Disk QoS: IOPS win, bytes become 8 KB normalized IOPS rounded down (min 1), 0 = none."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import Ephemeral, Volume

from .builders import plan

IOPS, BYTES = "quota:disk_total_iops_sec", "quota:disk_total_bytes_sec"


@pytest.mark.parametrize(
    ("specs", "limit"),
    [
        ({}, None),
        ({IOPS: "500"}, 500),
        ({IOPS: 500}, 500),
        ({IOPS: "0"}, None),
        ({BYTES: "8192"}, 1),
        ({BYTES: "8193"}, 1),
        ({BYTES: "16383"}, 1),
        ({BYTES: "16384"}, 2),
        ({BYTES: "15360"}, 1),  # 15 KiB/s: compute-hyperv rounded this up to 2
        ({BYTES: "1"}, 1),
        ({BYTES: "0"}, None),
        ({BYTES: "10000000"}, 1220),
        ({IOPS: "300", BYTES: "10000000"}, 300),  # IOPS win
        ({IOPS: "0", BYTES: "10000000"}, None),  # ... even when they say "no limit"
        ({IOPS: "", BYTES: "81920"}, 10),  # blank is unset
    ],
)
def test_limit_from_flavor(specs: dict[str, object], limit: int | None) -> None:
    assert plan(specs=specs).disk("root").iops_limit == limit


def test_limit_applies_to_every_local_disk_and_no_volume() -> None:
    vm = plan(specs={IOPS: "100"}, ephemeral=2, swap=64, config_drive=True,
              ephemerals=(Ephemeral(1), Ephemeral(1)), volumes=(Volume("v1"),))
    assert {d.name: d.iops_limit for d in vm.disks} == {
        "root": 100, "eph0": 100, "eph1": 100, "swap": 100, "v1": None, "configdrive": None}


def test_iso_root_has_no_limit() -> None:
    vm = plan(specs={IOPS: "100"}, disk_format="iso")
    assert vm.disk("root").iops_limit is None


def test_smb_volumes_take_their_cinder_front_end_qos() -> None:
    vm = plan(volumes=(
        Volume("smb", connection_type="smbfs", qos_specs={"total_bytes_sec": "16384"}),
        Volume("smb2", connection_type="smbfs",
               qos_specs={"total_iops_sec": 50, "total_bytes_sec": "16384"}),
        Volume("iscsi", qos_specs={"total_iops_sec": "50"}),  # backend QoS only
    ))
    assert [d.iops_limit for d in vm.disks[1:]] == [2, 50, None]
