"""`nova-hyperv plan` through the real dispatcher: output, JSON contract, exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hyperv_emulator.profiles import PRESETS, AssignableDevice
from nova_hyperv.cli import main
from nova_hyperv.cli._hostfacts import host_facts
from nova_hyperv.rules import AssignablePciDevice, HostNumaNode

FLAVOR = ["--flavor", "vcpus=2,ram=2048,disk=20"]
GEN2_SB = ["--image-property", "hw_machine_type=hyperv-gen2",
           "--image-property", "os_secure_boot=required", "--image-property", "os_type=windows"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["plan", *args])
    return status, capsys.readouterr().out


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    status, out = run(capsys, *args, "--json")
    return status, json.loads(out)


def test_basic_plan_reads_as_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, *FLAVOR)
    assert status == 0
    assert "VM instance-00000001" in out
    assert "ws2022: Microsoft Windows Server 2022 Datacenter, Windows 10.0.20348" in out
    assert "generation      1 (BIOS)" in out
    assert "IDE 0:0" in out and "root.vhdx" in out
    assert "boot order      harddrive, cdrom, network, floppy" in out
    assert "host shutdown   Save" in out


def test_json_keeps_the_published_key_names(capsys: pytest.CaptureFixture[str]) -> None:
    status, plan = run_json(capsys, *FLAVOR, *GEN2_SB, "--extra-spec", "hw:numa_nodes=2",
                            "--config-drive", "--nic", "fa:16:3e:00:00:09,tag=lan")
    assert status == 0
    assert plan["generation"] == 2
    assert plan["secure_boot"]["enabled"] is True
    assert plan["secure_boot"]["template"] == "MicrosoftWindows"
    assert set(plan["vtpm"]) >= {"enabled", "shielded"}
    assert set(plan["memory"]) >= {"startup_mb", "dynamic", "minimum_mb", "maximum_mb"}
    assert set(plan["processors"]) >= {"count", "nested_virtualization", "limit_cpu_features"}
    assert plan["numa"] == {"nodes": 2, "cpus_per_node": 1, "memory_mb_per_node": 1024}
    assert plan["remotefx"] is None
    assert plan["serial_ports"] == {"1": "rw"}
    for disk in plan["disks"]:
        assert set(disk) >= {"name", "kind", "bus", "controller", "slot", "iops_limit",
                             "boot_index"}
    assert [d["name"] for d in plan["disks"]] == ["root", "configdrive"]
    assert plan["boot_order"] == ["root", "port-1", "configdrive"]
    assert plan["pci_devices"] == []
    assert plan["nics"] == [{"name": "port-1", "mac": "fa:16:3e:00:00:09", "tag": "lan"}]
    assert plan["host_shutdown_action"] == "Save"
    assert isinstance(plan["root_virtual_size"], int)
    assert plan["nic_hot_plug_while_running"] is True


@pytest.mark.parametrize(("host", "generation", "answer"), [
    ("ws2012r2", "hyperv-gen2", "only while the VM is off"),
    ("ws2016", "hyperv-gen1", "only while the VM is off"),
    ("ws2016", "hyperv-gen2", "also while the VM runs"),
])
def test_nic_hot_plug_answer(
    capsys: pytest.CaptureFixture[str], host: str, generation: str, answer: str
) -> None:
    status, out = run(capsys, *FLAVOR, "--host", host,
                      "--image-property", f"hw_machine_type={generation}")
    assert status == 0 and f"NIC hot plug    {answer}" in out


def test_refusal_exits_2_with_the_error_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_json(capsys, *FLAVOR, "--image-property", "os_secure_boot=required",
                           "--image-property", "os_type=windows")
    assert status == 2
    assert set(out) == {"error"}
    assert out["error"]["code"] == "secure-boot-requires-gen2"
    assert out["error"]["field"] == "os_secure_boot"
    assert out["error"]["value"] == "required"
    assert "generation 2" in out["error"]["message"]


def test_refusal_in_human_form(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(capsys, *FLAVOR, "--host", "ws2019", "--extra-spec",
                      "os:resolution=1920x1200", "--config", "enable_remotefx=true")
    assert status == 2
    assert out.startswith("refused [remotefx-unsupported-by-host]: ")
    assert "PCI passthrough" in out


@pytest.mark.parametrize(("preset", "version"), [(name, p.windows_version)
                                                 for name, p in PRESETS.items()])
def test_presets(capsys: pytest.CaptureFixture[str], preset: str, version: str) -> None:
    status, out = run(capsys, *FLAVOR, "--host", preset)
    assert status == 0 and f"Windows {version}" in out


def test_remotefx_on_a_2016_preset(capsys: pytest.CaptureFixture[str]) -> None:
    status, plan = run_json(capsys, *FLAVOR, "--host", "ws2016", "--config",
                            "enable_remotefx=True", "--extra-spec", "os:resolution=1920x1200",
                            "--extra-spec", "os:monitors=2", "--extra-spec", "os:vram=1024")
    assert status == 0
    assert plan["remotefx"] == {"monitors": 2, "resolution": "1920x1200", "vram_bytes": 1 << 30}


def test_host_file_with_guarded_host_and_dda_devices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = tmp_path / "host.toml"
    host.write_text(
        'preset = "ws2016"\nguarded = true\n'
        '[[assignable_devices]]\nvendor_id = "10DE"\nproduct_id = "13F2"\n'
        'location_path = "PCIROOT(0)#PCI(0300)#PCI(0000)"\n'
    )
    status, plan = run_json(
        capsys, "--flavor", "vcpus=2,ram=4096,disk=40", *GEN2_SB, "--host", str(host),
        "--image-property", "os_shielded_vm=required", "--metadata", "img_pdk_reference=pdk1",
        "--metadata", "fsk:ComputerName=web1", "--hostname", "web1", "--pci", "10de:13f2",
    )
    assert status == 0
    assert plan["vtpm"]["enabled"] and plan["vtpm"]["shielded"]
    assert plan["vtpm"]["fsk_substitutions"] == {"@@ComputerName@@": "web1"}
    assert plan["pci_devices"] == [{"vendor_id": "10de", "product_id": "13f2"}]
    assert plan["host_shutdown_action"] == "TurnOff"


def test_bad_host_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out = run_json(capsys, *FLAVOR, "--host", str(tmp_path / "missing.toml"))
    assert status == 2 and out["error"]["code"] == "host-invalid"
    assert out["error"]["field"] == "--host"


def test_disks_volumes_and_boot_order(capsys: pytest.CaptureFixture[str]) -> None:
    status, plan = run_json(
        capsys, "--flavor", "vcpus=2,ram=2048,disk=20,ephemeral=5,swap=256",
        "--image-property", "hw_machine_type=hyperv-gen2",
        "--ephemeral", "5,boot_index=2,tag=scratch",
        "--volume", "vol-a,boot_index=1,tag=data,type=smbfs",
        "--extra-spec", "quota:disk_total_bytes_sec=16384",
    )
    assert status == 0
    assert [(d["name"], d["bus"], d["slot"], d["iops_limit"], d["boot_index"])
            for d in plan["disks"]] == [
        ("root", "scsi", 0, 2, 0), ("eph0", "scsi", 1, 2, 2), ("swap", "scsi", 2, 2, None),
        ("vol-a", "scsi", 3, None, 1)]
    assert plan["boot_order"] == ["root", "vol-a", "eph0", "swap"]


def test_boot_from_volume(capsys: pytest.CaptureFixture[str]) -> None:
    status, plan = run_json(capsys, *FLAVOR, "--volume", "boot-vol,root,type=fibre_channel")
    assert status == 0
    assert plan["disks"][0]["kind"] == "root" and plan["disks"][0]["volume_id"] == "boot-vol"
    assert plan["root_virtual_size"] is None


def test_iso_image(capsys: pytest.CaptureFixture[str]) -> None:
    status, plan = run_json(capsys, *FLAVOR, "--image-format", "iso")
    assert status == 0
    assert plan["boot_order"][0] == "cdrom"


def test_image_size_and_too_small_flavor(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_json(capsys, *FLAVOR, "--image-virtual-size", "20G")
    assert status == 2
    assert out["error"]["code"] == "root-disk-too-small"
    assert "root_gb >= 21" in out["error"]["message"]
    status, plan = run_json(capsys, "--flavor", "vcpus=2,ram=2048,disk=1", "--image-format",
                            "vhd", "--image-fixed", "--image-virtual-size", "1073741312")
    assert status == 0 and plan["root_virtual_size"] == 1073741312


def test_flavor_values_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_json(capsys, "--flavor", "vcpus=two,ram=2048,disk=20")
    assert status == 2 and out["error"]["code"] == "flavor-invalid"
    assert out["error"]["field"] == "vcpus"


def test_two_root_volumes_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_json(capsys, *FLAVOR, "--volume", "a,root", "--volume", "b,root")
    assert status == 2 and out["error"]["code"] == "volume-invalid"


@pytest.mark.parametrize("args", [
    ["--flavor", "vcpus"],
    [*FLAVOR, "--extra-spec", "novalue"],
    [*FLAVOR, "--volume", "v1,colour=red"],
    [*FLAVOR, "--ephemeral", "bus=ide"],
    [*FLAVOR, "--pci", "10de"],
    [*FLAVOR, "--image-virtual-size", "lots"],
    [*FLAVOR, "--image-format", "qcow2"],
])
def test_malformed_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plan", *args])
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_uuid_defaults_from_the_name_and_can_be_given(
    capsys: pytest.CaptureFixture[str]
) -> None:
    _, first = run_json(capsys, *FLAVOR, "--name", "a")
    _, again = run_json(capsys, *FLAVOR, "--name", "a")
    _, other = run_json(capsys, *FLAVOR, "--name", "b")
    assert first["instance_uuid"] == again["instance_uuid"] != other["instance_uuid"]
    uuid = "6f1b3a3e-0d5e-4bd0-9f5f-1a1a1a1a1a1a"
    _, given = run_json(capsys, *FLAVOR, "--uuid", uuid)
    assert given["instance_uuid"] == uuid
    assert given["serial_pipes"] == {"1": f"\\\\.\\pipe\\{uuid}_rw"}


def test_host_facts_from_a_profile() -> None:
    facts = host_facts(PRESETS["ws2016"].replace(
        assignable_devices=(), guarded=True, clustered=True))
    assert facts.windows_version == (10, 0, 14393)
    assert facts.logical_processors == 32
    assert facts.numa_nodes == (HostNumaNode(65536, 16), HostNumaNode(65536, 16))
    assert "RDS-Virtualization" in facts.server_features
    assert facts.remotefx_gpus == ("NVIDIA GRID K2",)
    assert facts.guarded and facts.clustered
    with_dda = host_facts(PRESETS["ws2022"].replace(
        assignable_devices=(AssignableDevice("10de", "13f2", "PCIROOT(0)"),)))
    assert with_dda.assignable_pci_devices == (AssignablePciDevice("10de", "13f2", True),)
