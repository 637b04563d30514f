"""What a run of the cloud is: hosts, ports, driver, and the refusals of bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from nova_hyperv.cloud.settings import (
    DEFAULT_COMPUTE_DRIVER,
    SERVICES,
    CloudSettings,
    SettingsError,
)


def test_defaults_run_one_host_on_the_fake_stand_in() -> None:
    settings = CloudSettings(Path("/s"))
    assert settings.host_names == ("hyperv-host-1",)
    assert settings.compute_driver == DEFAULT_COMPUTE_DRIVER
    assert not settings.uses_hyperv_driver
    assert settings.profile == "ws2022"


def test_ports_follow_the_base_in_service_order() -> None:
    ports = CloudSettings(Path("/s"), port_base=20000).requested_ports()
    assert list(ports) == list(SERVICES)
    assert list(ports.values()) == list(range(20000, 20000 + len(SERVICES)))
    assert set(CloudSettings(Path("/s"), port_base=0).requested_ports().values()) == {0}


@pytest.mark.parametrize("driver", ["hyperv.HyperVDriver", "compute_hyperv.driver.HyperVDriver",
                                    "nova_hyperv.driver.HyperVDriver"])
def test_every_name_of_our_driver_needs_an_emulated_host(driver: str) -> None:
    assert CloudSettings(Path("/s"), compute_driver=driver).uses_hyperv_driver


def test_several_hosts_are_numbered() -> None:
    assert CloudSettings(Path("/s"), hosts=3).host_names == (
        "hyperv-host-1", "hyperv-host-2", "hyperv-host-3")


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"hosts": 0}, "hosts=0"), ({"hosts": 17}, "hosts=17"),
     ({"port_base": 80}, "port_base=80"), ({"port_base": 65533}, "port_base=65533"),
     ({"compute_driver": "nova.virt.fake.FakeDriver"}, "relative to nova.virt"),
     ({"compute_driver": ""}, "compute_driver=''")],
)
def test_bad_settings_are_refused_naming_the_setting(changes: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        CloudSettings(Path("/s"), **changes)
