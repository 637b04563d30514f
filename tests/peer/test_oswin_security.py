"""os-win's vTPM and shielded VM paths (VMUtils10, HostUtils10) on the emulated host.

os-win reads the key protector and policy out of the PDK through root/msps, writes them
with the security service (its positional (bytes, xml) calls map by sorted parameter
name, as PyMI does), turns the vTPM on, then provisions the VM from the PDK and an FSK
it writes itself. The PDKs are the emulated host's own files (a real one comes from a
Host Guardian Service).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from os_win import constants
from os_win import exceptions as os_win_exceptions

from hyperv_emulator.host import Host
from hyperv_emulator.profiles import PRESETS, HostProfile
from hyperv_emulator.shielding_data import read_fsk, write_pdk

NAME_KEY = "@@ComputerName@@"


def oswin_utils(emulate: Callable[[HostProfile], Host], guarded: bool) -> tuple[Any, Any]:
    emulate(PRESETS["ws2022"].replace(guarded=guarded))
    from os_win import utilsfactory

    return utilsfactory.get_vmutils(), utilsfactory.get_hostutils()


def security_setting(vmutils: Any, name: str) -> Any:
    vm_id = vmutils.get_vm_id(name)
    return vmutils._conn.query("SELECT * FROM Msvm_SecuritySettingData WHERE InstanceID "
                               f"LIKE 'Microsoft:{vm_id}%'")[0]


def secure_boot_vm(vmutils: Any, name: str = "inst-1") -> None:
    vmutils.create_vm(name, False, constants.VM_GEN_2, "C:\\i")
    vmutils.enable_secure_boot(name, msft_ca_required=False)


def test_shielded_vm_on_a_guarded_host(emulate: Callable[[HostProfile], Host],
                                       tmp_path: Path) -> None:
    vmutils, hostutils = oswin_utils(emulate, guarded=True)
    assert hostutils.is_host_guarded() is True
    pdk = tmp_path / "tenant.pdk"
    fsk = tmp_path / "inst-1.fsk"
    write_pdk(pdk, name="tenant", fsk_keys=[NAME_KEY])
    secure_boot_vm(vmutils)
    assert vmutils.is_secure_vm("inst-1") is False
    vmutils.add_vtpm("inst-1", str(pdk), True)
    assert vmutils.is_secure_vm("inst-1") is True
    setting = security_setting(vmutils, "inst-1")
    assert (setting.TpmEnabled, setting.ShieldingRequested) == (True, True)
    vmutils.populate_fsk(str(fsk), {NAME_KEY: "inst-1"})
    assert read_fsk(fsk) == {NAME_KEY: "inst-1"}
    vmutils.provision_vm("inst-1", str(fsk), str(pdk))
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_ENABLED


def test_encryption_only_vtpm_and_refusals_on_a_host_that_is_not_guarded(
        emulate: Callable[[HostProfile], Host], tmp_path: Path) -> None:
    vmutils, hostutils = oswin_utils(emulate, guarded=False)
    assert hostutils.is_host_guarded() is False
    pdk = tmp_path / "tenant.pdk"
    write_pdk(pdk, policy="EncryptionSupported")
    secure_boot_vm(vmutils)
    vmutils.add_vtpm("inst-1", str(pdk), False)  # a vTPM that only encrypts
    assert vmutils.is_secure_vm("inst-1") is True
    vmutils.populate_fsk(str(tmp_path / "x.fsk"), {})
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.provision_vm("inst-1", str(tmp_path / "x.fsk"), str(pdk))
    assert info.value.error_code == 32769  # not guarded: keys are not released
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)  # not shielded: runs
    secure_boot_vm(vmutils, "shielded")
    vmutils.add_vtpm("shielded", str(pdk), True)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.set_vm_state("shielded", constants.HYPERV_VM_STATE_ENABLED)
    assert info.value.error_code == 32768


def test_vtpm_refusals(emulate: Callable[[HostProfile], Host], tmp_path: Path) -> None:
    vmutils, _ = oswin_utils(emulate, guarded=True)
    pdk = tmp_path / "tenant.pdk"
    write_pdk(pdk)
    vmutils.create_vm("gen1", False, constants.VM_GEN_1, "C:\\i")
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.add_vtpm("gen1", str(pdk), True)
    assert info.value.error_code == 32773  # no vTPM on generation 1
    assert vmutils.is_secure_vm("gen1") is False
    secure_boot_vm(vmutils, "running")
    vmutils.set_vm_state("running", constants.HYPERV_VM_STATE_ENABLED)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.add_vtpm("running", str(pdk), False)
    assert info.value.error_code == 32775  # only while off
    # Once the vTPM is initialized, the Secure Boot template is fixed.
    secure_boot_vm(vmutils, "windows")
    vmutils.add_vtpm("windows", str(pdk), False)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.enable_secure_boot("windows", msft_ca_required=True)
    assert info.value.error_code == 32775
    assert "after the virtual TPM is initialized" in info.value.message
