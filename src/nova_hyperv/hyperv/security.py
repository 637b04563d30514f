"""vTPM and shielded VMs: key protector, security policy and provisioning.

A generation 2 VM with Secure Boot, made and still off, becomes a shielded (or an
encryption-supported) VM in Hyper-V's order (os-win's add_vtpm and provision_vm, the
emulated host's docs):

1. `Msps_ProvisioningFileProcessor.PopulateFromFile(pdk)` (root/msps) reads the
   shielding data file: its key protector and security policy;
2. `Msvm_SecurityService.SetKeyProtector`, then `SetSecurityPolicy`, on the VM's
   Msvm_SecuritySettingData, then `ModifySecuritySettings` with TpmEnabled,
   EncryptStateAndVmMigrationTraffic and (shielded) ShieldingRequested on;
3. `SerializeToFile` writes the specialization data (FSK: the `@@Name@@` values the
   PDK's answer file asks for), and
4. `Msps_ProvisioningService.ProvisionMachine(FSK, VM id, PDK)` provisions it; its job
   comes back embedded (state 7 done, 10 refused with the reason).

Seven round trips, plus three the first time (the services, found once per client).
The files are the caller's (the driver writes and removes them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nova_hyperv.cim import (
    CimInstance,
    CimInvalidClass,
    CimNotFound,
    CimNotSupported,
    CimSession,
    like_prefix,
)
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.errors import HyperVError
from nova_hyperv.hyperv.vms import Vm

__all__ = [
    "MSPS",
    "SECURITY_SETTING",
    "ShieldingFailed",
    "apply_vtpm",
    "is_shielded",
    "security_setting",
    "shielded_vms",
]

MSPS = "root/msps"
SECURITY_SERVICE = "Msvm_SecurityService"
SECURITY_SETTING = "Msvm_SecuritySettingData"
FILE_PROCESSOR = f"{MSPS}:Msps_ProvisioningFileProcessor"
PROVISIONING_SERVICE = f"{MSPS}:Msps_ProvisioningService"
JOB_COMPLETED = 7


class ShieldingFailed(HyperVError):
    """The host refused to protect or provision the VM; the message is the host's."""


@dataclass(frozen=True)
class ShieldingData:
    key_protector: list[int]
    policy: list[int]


def security_setting(session: CimSession, vm: Vm) -> CimInstance:
    found = session.query(f"SELECT * FROM {SECURITY_SETTING} WHERE InstanceID LIKE "
                          f"{like_prefix(f'Microsoft:{vm.guid}')}")
    if not found:
        raise ShieldingFailed(f"VM {vm.name} has no security settings (the host has no "
                              "virtual TPM support: Windows Server 2016 or newer is needed)")
    return found[0]


def is_shielded(session: CimSession, vm: Vm) -> bool:
    """Whether Hyper-V shields the VM (no console, no access from the host); one query.
    A VM whose vTPM only encrypts its state is not shielded."""
    found = session.query(f"SELECT ShieldingRequested FROM {SECURITY_SETTING} WHERE "
                          f"InstanceID LIKE {like_prefix(f'Microsoft:{vm.guid}')}")
    return bool(found and found[0].get("ShieldingRequested"))


def shielded_vms(session: CimSession) -> set[str]:
    """GUIDs of the host's shielded VMs, in one query (none before 2016, which has no
    shielding): the driver's start-up leaves their consoles shut."""
    try:
        settings = session.query(f"SELECT InstanceID FROM {SECURITY_SETTING} "
                                 "WHERE ShieldingRequested = TRUE")
    except (CimInvalidClass, CimNotSupported, CimNotFound):
        return set()
    return {guid for s in settings if (guid := names.vm_guid_of(s.get("InstanceID")))}


def _read_pdk(session: CimSession, pdk_path: str) -> ShieldingData:
    result = session.invoke(FILE_PROCESSOR, "PopulateFromFile", FilePath=pdk_path)
    pdk = result.get("ProvisioningFile")
    if result.return_value != 0 or pdk is None:
        raise ShieldingFailed(f"the host could not read the shielding data file {pdk_path} "
                              f"(return value {result.return_value})")
    key_protector = list(pdk.get("KeyProtector") or ())
    if not key_protector:
        raise ShieldingFailed(f"the shielding data file {pdk_path} holds no key protector")
    return ShieldingData(key_protector, list(pdk.get("PolicyData") or ()))


def _write_fsk(session: CimSession, fsk_path: str,
               substitutions: Sequence[tuple[str, str]]) -> None:
    pairs = []
    for key, value in substitutions:
        pair = session.new_instance("Msps_FabricData", MSPS)
        pair["key"] = key
        pair["Value"] = value
        pairs.append(pair)
    fsk = session.new_instance("Msps_FSK", MSPS)
    fsk["FabricDataPairs"] = pairs
    result = session.invoke(FILE_PROCESSOR, "SerializeToFile", FilePath=fsk_path,
                            ProvisioningFile=fsk)
    if result.return_value != 0:
        raise ShieldingFailed(f"the host could not write the specialization data file "
                              f"{fsk_path} (return value {result.return_value})")


def _provision(session: CimSession, vm: Vm, fsk_path: str, pdk_path: str) -> None:
    result = session.invoke(PROVISIONING_SERVICE, "ProvisionMachine", FSKPath=fsk_path,
                            MachineID=vm.guid, PDKPath=pdk_path)
    job = result.get("ProvisioningJob")
    state = int(job.get("JobState", 0) or 0) if job is not None else 0
    if result.return_value != 0 or state != JOB_COMPLETED:
        reason = str(job.get("ErrorDescription") or "") if job is not None else ""
        raise ShieldingFailed(f"provisioning VM {vm.name} as a shielded VM failed (return "
                              f"value {result.return_value}): {reason or 'no reason given'}")


def apply_vtpm(session: CimSession, vm: Vm, *, pdk_path: str, fsk_path: str, shielded: bool,
               substitutions: Sequence[tuple[str, str]], timeout: float | None = None,
               security_service: CimInstance | str = SECURITY_SERVICE) -> None:
    """Give the (off) VM its vTPM from the PDK and provision it with the FSK values."""
    data = _read_pdk(session, pdk_path)
    setting = security_setting(session, vm)
    service = security_service
    if isinstance(service, str):
        [service] = session.query(f"SELECT * FROM {service}")
    for method, argument, value in (("SetKeyProtector", "KeyProtector", data.key_protector),
                                    ("SetSecurityPolicy", "SecurityPolicy", data.policy)):
        result = session.invoke(service, method, SecuritySettingData=setting,
                                **{argument: value})
        session.finish(result, f"{method} on VM {vm.name}", timeout=timeout)
    setting["TpmEnabled"] = True
    setting["EncryptStateAndVmMigrationTraffic"] = True
    setting["ShieldingRequested"] = shielded
    result = session.invoke(service, "ModifySecuritySettings", SecuritySettingData=setting)
    session.finish(result, f"turning on VM {vm.name}'s virtual TPM", timeout=timeout)
    _write_fsk(session, fsk_path, substitutions)
    _provision(session, vm, fsk_path, pdk_path)
