"""Port facts from Nova's network model, device metadata of NICs, and the config drive's
ISO-to-VHD conversion (checked by qemu-img, an independent reader)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from nova import exception
from nova.network import model as network_model
from nova.objects import virt_device_metadata as device_objects

import vhdfile
from nova_hyperv import rules
from nova_hyperv.ops import configdrive, metadata, network


def vif(port_id: str = "p1", vif_type: str = "ovs", **details: object) -> network_model.VIF:
    return network_model.VIF(id=port_id, address="fa:16:3e:00:00:01", type=vif_type,
                             details=dict(details))


def test_the_vlan_comes_from_the_bindings_details() -> None:
    found = network.rules_vif(vif(vlan=100, port_filter=True), tag="lan", security=False)
    assert found == rules.Vif("p1", "fa:16:3e:00:00:01", "lan", 100, False)
    assert network.rules_vif(vif()).vlan is None


def test_only_hyperv_and_ovs_ports_are_connected() -> None:
    network.check_vif_types([vif(vif_type="hyperv"), vif("p2")])
    with pytest.raises(exception.InvalidInput, match="p3 has VIF type 'hw_veb'"):
        network.check_vif_types([vif(), vif("p3", "hw_veb")])
    with pytest.raises(exception.VirtualInterfacePlugException, match="'binding_failed'"):
        network.check_vif_types([vif(vif_type="binding_failed")],
                                exception.VirtualInterfacePlugException)


def test_port_security_is_asked_of_neutron_and_its_failure_changes_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    client = mock.Mock()
    client.list_ports.return_value = {"ports": [
        {"id": "p1", "port_security_enabled": False}, {"id": "p2"}]}
    with mock.patch.object(network.neutron, "get_client", return_value=client):
        assert network.port_security("ctx", [vif("p1"), vif("p2")]) == {"p1": False,
                                                                        "p2": True}
    client.list_ports.assert_called_once_with(id=["p1", "p2"],
                                              fields=["id", "port_security_enabled"])
    client.list_ports.side_effect = RuntimeError("neutron is down")
    with mock.patch.object(network.neutron, "get_client", return_value=client):
        assert network.port_security("ctx", [vif("p1")]) == {}
    assert "MAC spoofing is left as it is" in caplog.text
    assert network.port_security("ctx", []) == {}


def test_nic_device_metadata_is_added_and_removed_by_mac() -> None:
    disk = device_objects.DiskMetadata(bus=device_objects.SCSIDeviceBus(address="0:0:0:1"),
                                       tags=["data"])
    start = device_objects.InstanceDeviceMetadata(devices=[disk])
    tagged = rules.NicPlan("p1", "fa:16:3e:00:00:01", "lan")
    added = metadata.with_nic(start, tagged)
    assert [type(d).__name__ for d in added.devices] == ["DiskMetadata",
                                                         "NetworkInterfaceMetadata"]
    assert added.devices[1].tags == ["lan"]
    again = metadata.with_nic(added, tagged)  # not twice
    assert [getattr(d, "mac", None) for d in again.devices] == [None, "fa:16:3e:00:00:01"]
    assert metadata.with_nic(None, rules.NicPlan("p2", "fa:16:3e:00:00:02")).devices == []
    removed = metadata.without_nic(added, "FA:16:3E:00:00:01")
    assert [type(d).__name__ for d in removed.devices] == ["DiskMetadata"]


def test_only_iso9660_config_drives() -> None:
    configdrive.check_format(SimpleNamespace(config_drive_format="iso9660"))
    with pytest.raises(exception.InvalidInput, match="config_drive_format = 'vfat'"):
        configdrive.check_format(SimpleNamespace(config_drive_format="vfat"))


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (qemu-utils) absent")
def test_an_iso_becomes_a_fixed_vhd_qemu_reads_back_byte_for_byte(tmp_path: Path) -> None:
    iso = tmp_path / "configdrive.iso"
    data = bytes(range(256)) * 2048 + b"CD001 tail"  # not a multiple of 512
    iso.write_bytes(data)
    vhd = tmp_path / "configdrive.vhd"
    configdrive.iso_to_fixed_vhd(str(iso), str(vhd))
    info = vhdfile.inspect(vhd)
    assert (info.format.value, info.type.value) == ("vhd", "fixed")
    assert info.virtual_size == -(-len(data) // 512) * 512
    raw = tmp_path / "back.raw"
    subprocess.run(["qemu-img", "convert", "-f", "vpc", "-O", "raw", str(vhd), str(raw)],
                   check=True)
    back = raw.read_bytes()
    assert back[:len(data)] == data
    assert back[len(data):] == bytes(len(back) - len(data))


def test_a_failed_conversion_leaves_no_vhd(tmp_path: Path) -> None:
    iso = tmp_path / "configdrive.iso"
    iso.write_bytes(b"x" * 4096)
    vhd = tmp_path / "configdrive.vhd"
    with mock.patch.object(vhdfile.VirtualDisk, "write", side_effect=OSError("disk full")), \
            pytest.raises(OSError, match="disk full"):
        configdrive.iso_to_fixed_vhd(str(iso), str(vhd))
    assert not vhd.exists()


def _drive_plan(device: str) -> SimpleNamespace:
    name = "configdrive.iso" if device == "dvd" else "configdrive.vhd"
    return SimpleNamespace(disks=[SimpleNamespace(kind="root", file_name="root.vhdx"),
                                  SimpleNamespace(kind="config_drive", file_name=name,
                                                  device=device)])


def test_a_moved_config_drive_takes_the_form_this_hosts_plan_attaches(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64  # an ISO is whole 2 KiB sectors
    (tmp_path / "configdrive.iso").write_bytes(data)
    configdrive.match_plan(_drive_plan("disk"), str(tmp_path))  # DVD host -> disk host
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configdrive.vhd"]
    assert vhdfile.inspect(tmp_path / "configdrive.vhd").type.value == "fixed"
    configdrive.match_plan(_drive_plan("disk"), str(tmp_path))  # already so: unchanged
    configdrive.match_plan(_drive_plan("dvd"), str(tmp_path))  # and back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configdrive.iso"]
    assert (tmp_path / "configdrive.iso").read_bytes() == data


def test_no_config_drive_in_the_plan_or_the_folder_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "configdrive.vhd").write_bytes(b"left alone")
    configdrive.match_plan(SimpleNamespace(disks=[]), str(tmp_path))
    (tmp_path / "configdrive.vhd").unlink()
    configdrive.match_plan(_drive_plan("dvd"), str(tmp_path))  # prepare_disks says missing
    assert list(tmp_path.iterdir()) == []


def test_a_failed_conversion_to_an_iso_leaves_the_vhd_and_no_iso(tmp_path: Path) -> None:
    (tmp_path / "configdrive.iso").write_bytes(b"\1" * 4096)
    configdrive.match_plan(_drive_plan("disk"), str(tmp_path))
    with mock.patch.object(vhdfile.VirtualDisk, "read", side_effect=OSError("bad sector")), \
            pytest.raises(OSError, match="bad sector"):
        configdrive.match_plan(_drive_plan("dvd"), str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["configdrive.vhd"]
