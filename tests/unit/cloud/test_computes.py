"""What each nova-compute of the cloud needs before it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nova.virt import driver

from hyperv_emulator import open_host
from nova_hyperv.cloud import computes
from nova_hyperv.cloud.settings import CloudSettings
from nova_hyperv.cloud.statedir import StateDir
from nova_hyperv.cloud.volumes import SHARE


def _state(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path)
    state.prepare()
    return state


def test_each_host_gets_its_emulated_host_made_once_and_its_own_instances(
        tmp_path: Path) -> None:
    state = _state(tmp_path)
    settings = CloudSettings(tmp_path, profiles=("ws2022-dda", "ws2019"), hosts=3)
    options = {host: computes.prepare_compute_host(settings, state, host)
               for host in settings.host_names}
    for host, option in options.items():
        path = state.host(host) / computes.EMULATED_HOST_FILE
        assert option == {"DEFAULT": {"instances_path": str(state.host(host) / "instances")},
                          "hyperv": {"host_uri": f"emulated://{path}"}}
        assert option["hyperv"]["host_uri"].startswith("emulated:///")  # absolute path
        assert (state.host(host) / "instances").is_dir()
    made = {host: open_host(computes.host_state_file(state, host)) for host in options}
    assert [(h.hostname, h.profile.windows_version, len(h.profile.assignable_devices))
            for h in made.values()] == [("HYPERV-HOST-1", "10.0.20348", 2),
                                        ("HYPERV-HOST-2", "10.0.17763", 0),
                                        ("HYPERV-HOST-3", "10.0.17763", 0)]
    for host in made.values():  # the volume service's share, on every host's network
        assert host.storage.local_path(f"{SHARE}\\volume-1.vhdx") == \
            state.volumes / "volume-1.vhdx"
    assert "10.0.20348), guarded, 2 PCI device(s) for DDA (10de:1eb8)" in \
        computes.describe_host(state, "hyperv-host-1")
    # A restart reuses each host as it is, whatever the profiles say now.
    again = CloudSettings(tmp_path, profiles=("ws2016",), hosts=3)
    assert computes.prepare_compute_host(again, state, "hyperv-host-2") == \
        options["hyperv-host-2"]
    assert len(made["hyperv-host-2"].storage.smb_shares()) == 1
    assert open_host(computes.host_state_file(state, "hyperv-host-2")).profile.windows_version \
        == "10.0.17763"


def test_emulated_host_names_fit_netbios() -> None:
    assert computes.emulated_hostname("hyperv-host-12") == "HYPERV-HOST-12"
    assert len(computes.emulated_hostname("a-very-long-host-name")) == 15


def test_a_remotefx_host_says_so(tmp_path: Path) -> None:
    state = _state(tmp_path)
    settings = CloudSettings(tmp_path, profiles=("ws2016",))
    computes.prepare_compute_host(settings, state, "hyperv-host-1")
    assert computes.describe_host(state, "hyperv-host-1") == (
        "Microsoft Windows Server 2016 Datacenter (10.0.14393), RemoteFX GPU NVIDIA GRID K2")


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


def test_every_compute_of_the_process_is_local_for_novas_volume_detach() -> None:
    from nova.virt import block_device

    real = block_device.CONF
    try:
        computes.treat_computes_as_local(["hyperv-host-1", "hyperv-host-2"])
        conf = block_device.CONF
        assert conf.host == "hyperv-host-2" and conf.host == "hyperv-host-1"
        assert conf.host != "elsewhere"
        assert conf.host == real.host  # still the controller's own name
        assert conf.state_path == real.state_path  # the rest is nova's CONF
        computes.treat_computes_as_local(["hyperv-host-3"])  # again: replaces, no nesting
        assert block_device.CONF.host != "hyperv-host-1"
        assert block_device.CONF._conf is real
    finally:
        block_device.CONF = real
