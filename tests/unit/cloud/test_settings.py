"""What a run of the cloud is: hosts and their profiles, ports, and bad settings refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperv_emulator.profiles import load_profile
from nova_hyperv.cloud.settings import (
    DEFAULT_PROFILES,
    SERVICES,
    CloudSettings,
    SettingsError,
    cloud_host_files,
    resolve_profile,
)


def test_defaults_run_a_2022_host_with_dda_devices_and_a_2016_remotefx_host() -> None:
    settings = CloudSettings(Path("/s"))
    assert settings.host_names == ("hyperv-host-1", "hyperv-host-2")
    assert [settings.profile_of(h) for h in settings.host_names] == list(DEFAULT_PROFILES)
    first, second = (load_profile(resolve_profile(p)) for p in DEFAULT_PROFILES)
    assert (first.windows_version, first.guarded, len(first.assignable_devices)) == (
        "10.0.20348", True, 2)
    assert second.windows_version == "10.0.14393" and second.remotefx_gpus
    assert "RDS-Virtualization" in second.server_features


def test_the_last_profile_repeats_and_fewer_hosts_take_the_first() -> None:
    settings = CloudSettings(Path("/s"), profiles=("ws2019",), hosts=3)
    assert [settings.profile_of(h) for h in settings.host_names] == ["ws2019"] * 3
    one = CloudSettings(Path("/s"), hosts=1)
    assert one.host_names == ("hyperv-host-1",)
    assert one.profile_of("hyperv-host-1") == DEFAULT_PROFILES[0]


def test_profiles_are_presets_cloud_host_files_or_paths() -> None:
    assert resolve_profile("ws2022") == "ws2022"
    assert resolve_profile("ws2022-dda") == str(cloud_host_files()["ws2022-dda"])
    assert resolve_profile("/etc/my-host.toml") == "/etc/my-host.toml"


def test_ports_follow_the_base_in_service_order() -> None:
    ports = CloudSettings(Path("/s"), port_base=20000).requested_ports()
    assert list(ports) == list(SERVICES)
    assert list(ports.values()) == list(range(20000, 20000 + len(SERVICES)))
    assert set(CloudSettings(Path("/s"), port_base=0).requested_ports().values()) == {0}


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"hosts": 0}, "hosts=0"), ({"hosts": 17}, "hosts=17"),
     ({"profiles": ("ws2022",) * 17}, "hosts=17"),
     ({"profiles": ()}, "profiles=''"), ({"profiles": ("ws2022", " ")}, "profiles="),
     ({"port_base": 80}, "port_base=80"), ({"port_base": 65533}, "port_base=65533")],
)
def test_bad_settings_are_refused_naming_the_setting(changes: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        CloudSettings(Path("/s"), **changes)
