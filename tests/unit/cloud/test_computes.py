"""What each nova-compute of the cloud needs before it starts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from nova.virt import driver

from nova_hyperv.cloud import computes
from nova_hyperv.cloud.settings import CloudSettings
from nova_hyperv.cloud.statedir import StateDir


def _state(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path)
    state.prepare()
    return state


def test_the_fake_stand_in_needs_only_its_folder(tmp_path: Path) -> None:
    state = _state(tmp_path)
    options = computes.prepare_compute_host(CloudSettings(tmp_path), state, "hyperv-host-1",
                                            create_host=_never)
    assert options == {}
    assert state.host("hyperv-host-1").is_dir()


def test_hyperv_driver_gets_an_emulated_host_made_once(tmp_path: Path) -> None:
    state = _state(tmp_path)
    settings = CloudSettings(tmp_path, compute_driver="hyperv.HyperVDriver", profile="ws2019")
    made: list[tuple[Path, str, str]] = []

    def create(path: Path, profile: str, hostname: str) -> None:
        made.append((path, profile, hostname))
        path.write_bytes(b"host state")

    options = computes.prepare_compute_host(settings, state, "hyperv-host-2", create)
    path = state.host("hyperv-host-2") / computes.EMULATED_HOST_FILE
    assert options == {"host_uri": f"emulated://{path}"}
    assert options["host_uri"].startswith("emulated:///")  # emulated:// + absolute path
    assert made == [(path, "ws2019", "HYPERV-HOST-2")]
    # A restart reuses the host as it is.
    assert computes.prepare_compute_host(settings, state, "hyperv-host-2", _never) == options


def test_emulated_host_names_fit_netbios() -> None:
    assert computes.emulated_hostname("hyperv-host-12") == "HYPERV-HOST-12"
    assert len(computes.emulated_hostname("a-very-long-host-name")) == 15


@pytest.mark.skipif(importlib.util.find_spec("hyperv_emulator.host") is None,
                    reason="the emulated host library has not landed on this branch")
def test_create_emulated_host_makes_a_host_of_the_profile(tmp_path: Path) -> None:
    from hyperv_emulator.host import open_host

    path = tmp_path / "h" / computes.EMULATED_HOST_FILE
    computes.create_emulated_host(path, "ws2016", "HYPERV-HOST-1")
    host = open_host(path)
    assert (host.hostname, host.profile.windows_version) == ("HYPERV-HOST-1", "10.0.14393")


@pytest.mark.skipif(importlib.util.find_spec("hyperv_emulator.host") is not None,
                    reason="the emulated host library is here")
def test_without_the_emulated_host_library_the_refusal_says_what_to_do(tmp_path: Path
                                                                       ) -> None:
    with pytest.raises(RuntimeError, match=r"cannot create one yet.*default compute driver"):
        computes.create_emulated_host(tmp_path / "x.db", "ws2022", "H")
    assert not (tmp_path / "x.db").exists()


class _SingleNode(driver.ComputeDriver):
    """A driver that relies on nova's per-process node identity, as real ones do."""

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return ["hyperv-host-2"]

    def get_available_resource(self, nodename: str) -> dict[str, Any]:
        return {"hypervisor_hostname": nodename, "vcpus": 4}


def test_hosts_after_the_first_get_their_own_node_identity(tmp_path: Path) -> None:
    first = computes.give_own_node_identity(_SingleNode(None), tmp_path)
    assert first is not None and (tmp_path / computes.NODE_ID_FILE).read_text() == first
    again = _SingleNode(None)
    assert computes.give_own_node_identity(again, tmp_path) == first  # kept across restarts
    assert again.get_nodenames_by_uuid() == {first: "hyperv-host-2"}
    assert again.get_available_resource("hyperv-host-2") == {
        "hypervisor_hostname": "hyperv-host-2", "vcpus": 4, "uuid": first}


def test_a_driver_that_knows_its_nodes_is_left_alone(tmp_path: Path) -> None:
    class OwnNodes(_SingleNode):
        def get_nodenames_by_uuid(self, refresh: bool = False) -> dict[str, str]:
            return {"fixed": "n"}

    own = OwnNodes(None)
    assert computes.give_own_node_identity(own, tmp_path) is None
    assert own.get_nodenames_by_uuid() == {"fixed": "n"}
    assert not (tmp_path / computes.NODE_ID_FILE).exists()


def _never(path: Path, profile: str, hostname: str) -> None:
    raise AssertionError("no host should be created")


def test_hosts_after_the_first_keep_their_files_in_their_folder(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert computes.own_instances_path(state.host("hyperv-host-2")) == \
        state.host("hyperv-host-2") / "instances"
