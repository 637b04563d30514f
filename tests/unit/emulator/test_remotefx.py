"""RemoteFX: the host's GPUs and pool, and the 3D display controller's rules per version."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client, client_for

from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import PRESETS, RemoteFxGpu

THREE_D = HV + "Synthetic 3D Display Controller"
SYNTHETIC = HV + "Synthetic Display Controller"
MIB = 2**20


def remotefx(client: Client, resolution: int = 0, monitors: int = 1,
             vram: int | None = None) -> Instance:
    setting = client.template(THREE_D, "Msvm_Synthetic3DDisplayControllerSettingData")
    setting["MaximumScreenResolution"] = resolution
    setting["MaximumMonitors"] = monitors
    if vram is not None:
        setting["VRAMSizeBytes"] = vram
    return setting


def without_synthetic_display(client: Client, system: str) -> None:
    display = client.devices(system, subtype=SYNTHETIC)[0]
    client.ok(client.call("RemoveResourceSettings", ResourceSettings=[str(display.path)]))


@pytest.fixture
def ws2016(tmp_path: Path) -> Client:
    return client_for(tmp_path, "ws2016")


def test_host_gpus_and_pool(ws2016: Client, tmp_path: Path) -> None:
    gpus = ws2016.session.query("SELECT * FROM Msvm_Physical3dGraphicsProcessor WHERE "
                                "EnabledForVirtualization = 'True'")
    assert [(g["Name"], g["TotalVideoMemory"]) for g in gpus] == [("NVIDIA GRID K2",
                                                                    4096 * MIB)]
    pool = ws2016.session.query("SELECT * FROM Msvm_Synth3dVideoPool")[0]
    assert (pool["Is3dVideoSupported"], pool["IsGPUCapable"], pool["IsSLATCapable"]) == (
        True, True, True)
    assert pool["InstanceID"] == "Microsoft:06FF76FA-2D58-4BAF-9F8D-455773824F37"
    assert ws2016.session.query("SELECT * FROM Win32_ServerFeature WHERE ID = 322",
                                "root/cimv2")
    later = client_for(tmp_path, "ws2019")
    assert later.session.query("SELECT * FROM Msvm_Physical3dGraphicsProcessor") == []
    assert later.session.query("SELECT * FROM Msvm_Synth3dVideoPool")[0][
        "Is3dVideoSupported"] is False


def test_generation2_on_2016_with_vram(ws2016: Client) -> None:
    system = ws2016.define()
    job = ws2016.refused(ws2016.add(system, remotefx(ws2016)), 32773)
    assert "remove the synthetic display controller first" in job["ErrorDescription"]
    without_synthetic_display(ws2016, system)
    added = ws2016.add_ok(system, remotefx(ws2016, resolution=5, monitors=1, vram=1024 * MIB))
    stored = ws2016.session.get(added)
    assert (stored["MaximumScreenResolution"], stored["VRAMSizeBytes"]) == (5, 1024 * MIB)
    assert "already has" in ws2016.refused(ws2016.add(system, remotefx(ws2016)), 32773)[
        "ErrorDescription"]
    assert "already has" in ws2016.refused(ws2016.add(system, ws2016.template(SYNTHETIC)),
                                           32773)["ErrorDescription"]
    stored["MaximumScreenResolution"] = 3
    stored["MaximumMonitors"] = 4
    ws2016.ok(ws2016.call("ModifyResourceSettings", ResourceSettings=[stored]))
    ws2016.ok(ws2016.state(system, 2))
    stored["MaximumMonitors"] = 2
    ws2016.refused(ws2016.call("ModifyResourceSettings", ResourceSettings=[stored]), 32775)
    ws2016.refused(ws2016.call("RemoveResourceSettings", ResourceSettings=[added]), 32775)


@pytest.mark.parametrize(("preset", "resolution", "monitors", "vram", "fragment"), [
    ("ws2016", 2, 5, None, "1 to 4 monitors"),
    ("ws2016", 5, 2, None, "1 to 1 monitors"),
    ("ws2016", 0, 9, None, "1 to 8 monitors"),
    ("ws2016", 0, 1, 100 * MIB, "VRAM size"),
    ("ws2012r2", 5, 1, None, "not a RemoteFX resolution"),
    ("ws2012r2", 2, 4, None, "1 to 3 monitors"),
    ("ws2012r2", 4, 2, None, "1 to 1 monitors"),
])
def test_limits_per_version(tmp_path: Path, preset: str, resolution: int, monitors: int,
                            vram: int | None, fragment: str) -> None:
    client = client_for(tmp_path, preset)
    system = client.define("vm1", 1)
    without_synthetic_display(client, system)
    job = client.refused(client.add(system, remotefx(client, resolution, monitors, vram)), 32773)
    assert fragment in job["ErrorDescription"]


def test_2012r2_has_remotefx_for_generation1_only(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2012r2")
    gen2 = client.define("gen2", 2)
    without_synthetic_display(client, gen2)
    assert "generation 2" in client.refused(client.add(gen2, remotefx(client)), 32773)[
        "ErrorDescription"]
    gen1 = client.define("gen1", 1)
    without_synthetic_display(client, gen1)
    setting = remotefx(client, resolution=4, monitors=1)
    assert "VRAMSizeBytes" not in setting  # no VRAM setting before 2016
    client.add_ok(gen1, setting)


@pytest.mark.parametrize("preset", ["ws2019", "ws2022", "ws2025"])
def test_no_remotefx_from_2019_on(tmp_path: Path, preset: str) -> None:
    profile = PRESETS[preset].replace(remotefx_gpus=(RemoteFxGpu("Old GPU", 2048),),
                                      server_features=("Hyper-V", "RDS-Virtualization"))
    client = client_for(tmp_path, profile)
    system = client.define()
    without_synthetic_display(client, system)
    job = client.refused(client.add(system, remotefx(client)), 32773)
    assert "not available on Windows Server 2019 and later" in job["ErrorDescription"]
    gpu = client.session.query("SELECT * FROM Msvm_Physical3dGraphicsProcessor")[0]
    assert gpu["EnabledForVirtualization"] is False
    service = client.session.query("SELECT * FROM Msvm_Synthetic3DService")[0]
    job = client.refused(client.session.invoke(service.path, "EnableGPUForVirtualization",
                                               PhysicalGPU=gpu), 32770)
    assert "not available" in job["ErrorDescription"]


def test_a_host_without_a_remotefx_gpu(tmp_path: Path) -> None:
    no_gpu = client_for(tmp_path, PRESETS["ws2016"].replace(remotefx_gpus=()))
    system = no_gpu.define("vm1", 1)
    job = no_gpu.refused(no_gpu.add(system, remotefx(no_gpu)), 32773)
    assert "no GPU of this host is enabled for RemoteFX" in job["ErrorDescription"]
    no_role = client_for(tmp_path, PRESETS["ws2016"].replace(server_features=("Hyper-V",),
                                                             hostname="NOROLE"))
    system = no_role.define("vm1", 1)
    job = no_role.refused(no_role.add(system, remotefx(no_role)), 32773)
    assert "Remote Desktop Virtualization Host" in job["ErrorDescription"]


def test_gpus_can_be_disabled_and_enabled_for_remotefx(ws2016: Client) -> None:
    service = ws2016.session.query("SELECT * FROM Msvm_Synthetic3DService")[0]
    gpu = ws2016.session.query("SELECT * FROM Msvm_Physical3dGraphicsProcessor")[0]
    assert ws2016.session.invoke(service.path, "DisableGPUForVirtualization",
                                 PhysicalGPU=gpu).return_value == 0
    system = ws2016.define("vm1", 1)
    without_synthetic_display(ws2016, system)
    ws2016.refused(ws2016.add(system, remotefx(ws2016)), 32773)
    assert ws2016.session.invoke(service.path, "EnableGPUForVirtualization",
                                 PhysicalGPU=gpu).return_value == 0
    ws2016.add_ok(system, remotefx(ws2016))


def test_remotefx_needs_the_vm_off(ws2016: Client) -> None:
    system = ws2016.define("vm1", 1)
    without_synthetic_display(ws2016, system)
    ws2016.ok(ws2016.state(system, 2))
    job = ws2016.refused(ws2016.add(system, remotefx(ws2016)), 32775)
    assert "to be off" in job["ErrorDescription"]


def test_s3_address_takes_the_two_known_values(ws2016: Client) -> None:
    system = ws2016.define("vm1", 1)
    s3 = ws2016.devices(system, subtype=HV + "S3 Display Controller")[0]
    assert s3["Address"] == "5353,00000000,00"
    s3["Address"] = "02C1,00000000,01"
    ws2016.ok(ws2016.call("ModifyResourceSettings", ResourceSettings=[s3]))
    s3["Address"] = "1234,00000000,00"
    assert "must be" in ws2016.refused(ws2016.call("ModifyResourceSettings",
                                                   ResourceSettings=[s3]), 32773)[
        "ErrorDescription"]
