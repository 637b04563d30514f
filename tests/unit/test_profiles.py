"""Host profiles: presets carry real versions; host files are checked key by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperv_emulator.profiles import (
    PRESETS,
    HostDisk,
    ProfileError,
    load_profile,
    profile_from_mapping,
    profile_to_mapping,
)


def test_presets_have_real_windows_versions() -> None:
    versions = {name: p.windows_version for name, p in PRESETS.items()}
    assert versions == {
        "ws2012r2": "6.3.9600",
        "ws2016": "10.0.14393",
        "ws2019": "10.0.17763",
        "ws2022": "10.0.20348",
        "ws2025": "10.0.26100",
    }


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_share_the_documented_shape(name: str) -> None:
    profile = PRESETS[name]
    assert [n.memory_mb for n in profile.numa_nodes] == [65536, 65536]
    assert profile.logical_processors == 32
    assert not profile.guarded and not profile.clustered and not profile.assignable_devices
    has_remotefx = name in ("ws2012r2", "ws2016")
    assert ("RDS-Virtualization" in profile.server_features) is has_remotefx
    assert bool(profile.remotefx_gpus) is has_remotefx


def test_host_file_overrides_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "host.toml"
    path.write_text(
        'preset = "ws2016"\nguarded = true\nclustered = true\n'
        '[[assignable_devices]]\nvendor_id = "10de"\nproduct_id = "13F2"\n'
        'location_path = "PCIROOT(0)#PCI(0300)#PCI(0000)"\n'
    )
    profile = load_profile(path)
    assert profile.windows_version == "10.0.14393"
    assert profile.guarded and profile.clustered
    device = profile.assignable_devices[0]
    assert device.instance_path.startswith("PCIP\\VEN_10DE&DEV_13F2&SUBSYS_")
    # The instance path is stable across processes (no salted hash()).
    assert device.instance_path == load_profile(path).assignable_devices[0].instance_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gaurded = true\n", "unknown key 'gaurded'"),
        ('preset = "ws2030"\n', "preset = 'ws2030' is unknown"),
        ("guarded = 1\n", "guarded = 1 must be a bool"),
        ('server_features = ["RemoteFX"]\n', "server feature 'RemoteFX' is unknown"),
        ("[[numa_nodes]]\nmemory_mb = 0\nlogical_processors = 4\n", "numa_nodes[0]"),
        ('[[vswitches]]\nname = "x"\nswitch_type = "bridge"\n', "vswitches[0].switch_type"),
        (
            '[[assignable_devices]]\nvendor_id = "10DE"\nproduct_id = "XYZ"\nlocation_path = "p"\n',
            "4 hex digits",
        ),
        (
            "[[numa_nodes]]\nmemory_mb = 1\nlogical_processors = 1\ncolour = 1\n",
            "unknown key(s) colour",
        ),
    ],
)
def test_bad_host_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "host.toml"
    path.write_text(text)
    with pytest.raises(
        ProfileError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        load_profile(path)


def test_unknown_preset_or_missing_file() -> None:
    with pytest.raises(ProfileError, match="neither a preset"):
        load_profile("no-such-host")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_profile_round_trips_through_plain_data(name: str) -> None:
    profile = PRESETS[name].replace(
        disks=(HostDisk(3, 10 * 2**30, "SER3"),), extra={"note": "x"}
    )
    data = json.loads(json.dumps(profile_to_mapping(profile)))
    assert profile_from_mapping(data) == profile
