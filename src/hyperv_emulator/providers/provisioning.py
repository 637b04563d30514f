"""root/msps: shielding data files and shielded VM provisioning, as os-win uses them.

`Msps_ProvisioningFileProcessor.PopulateFromFile(FilePath)` reads a PDK (an Msps_PDK
with KeyProtector and PolicyData) or an FSK (an Msps_FSK with FabricDataPairs);
`SerializeToFile(FilePath, ProvisioningFile)` writes either. The files are the
emulated host's own container (`hyperv_emulator.shielding_data`), at the path given
(the emulator runs on Linux: a local path). A file that cannot be read or parsed fails
the call with WBEM_E_INVALID_PARAMETER naming the file.

`Msps_ProvisioningService.ProvisionMachine(FSKPath, MachineID, PDKPath)` provisions a
VM that was prepared from the same PDK (its key protector must be the PDK's, its vTPM
on), while it is off, on a guarded host, with every substitution string the PDK's
answer file needs present in the FSK. It returns an Msps_ProvisioningJob as an
embedded instance (also kept in root/msps for Get-ShieldedVMProvisioningStatus-style
queries, until the VM goes): state 7 and ReturnValue 0 when done, state 10 with the
error and a non-zero ReturnValue when refused. Success is 0 rather than 4096 because
the job is an embedded object, not a reference to poll (os-win's provision_vm only
works that way).
"""

from __future__ import annotations

from hyperv_emulator.cimtypes import now
from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import security
from hyperv_emulator.providers.base import (
    ACCESS_DENIED,
    COMPLETED,
    FILE_NOT_FOUND,
    INVALID_PARAMETER,
    INVALID_STATE,
    Args,
    Ctx,
    method,
    new_guid,
)
from hyperv_emulator.providers.vms import Vm, load_vm
from hyperv_emulator.schema.model import NS_MSPS
from hyperv_emulator.shielding_data import (
    ShieldingData,
    ShieldingDataError,
    parse_file,
    read_fsk,
    read_pdk,
    write_fsk,
    write_pdk,
)

PROCESSOR = "Msps_ProvisioningFileProcessor"
SERVICE = "Msps_ProvisioningService"
JOB = "Msps_ProvisioningJob"
WBEM_E_INVALID_PARAMETER = 0x80041008


def _file_error(exc: ShieldingDataError) -> CimError:
    return CimError(WBEM_E_INVALID_PARAMETER, str(exc))


@method(PROCESSOR, "PopulateFromFile")
def populate_from_file(ctx: Ctx, target: Instance | None, args: Args) -> int:
    path = args.get("FilePath")
    if not path:
        raise CimError(WBEM_E_INVALID_PARAMETER, "PopulateFromFile: FilePath is required")
    try:
        found = parse_file(path)
    except ShieldingDataError as exc:
        raise _file_error(exc) from None
    if isinstance(found, ShieldingData):
        result = ctx.new("Msps_PDK", NS_MSPS, RawData=list(found.raw),
                         KeyProtector=list(found.key_protector),
                         PolicyData=list(found.policy_data), VolumeIDFilters=[])
    else:
        result = ctx.new("Msps_FSK", NS_MSPS, RawData=list(_raw(path)),
                         FabricDataPairs=[ctx.new("Msps_FabricData", NS_MSPS, key=k, Value=v)
                                          for k, v in found.items()])
    ctx.output("ProvisioningFile", result)
    return COMPLETED


def _raw(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


@method(PROCESSOR, "SerializeToFile")
def serialize_to_file(ctx: Ctx, target: Instance | None, args: Args) -> int:
    path = args.get("FilePath")
    given = args.get("ProvisioningFile")
    if not path or given is None:
        raise CimError(WBEM_E_INVALID_PARAMETER,
                       "SerializeToFile needs FilePath and ProvisioningFile")
    try:
        if given.is_a("Msps_FSK"):
            pairs = {}
            for index, pair in enumerate(given.get("FabricDataPairs") or ()):
                key = pair.get("key")
                if not key:
                    raise CimError(WBEM_E_INVALID_PARAMETER,
                                   f"FabricDataPairs[{index}] has no key")
                pairs[str(key)] = str(pair.get("Value") or "")
            write_fsk(path, pairs)
        elif given.is_a("Msps_PDK"):
            write_pdk(path, key_protector=bytes(given.get("KeyProtector") or ()),
                      policy_data=bytes(given.get("PolicyData") or ()) or None)
        else:
            raise CimError(WBEM_E_INVALID_PARAMETER, f"ProvisioningFile is a "
                                                     f"{given.class_name}, not Msps_FSK or "
                                                     "Msps_PDK")
    except ShieldingDataError as exc:
        raise _file_error(exc) from None
    except OSError as exc:
        raise CimError(WBEM_E_INVALID_PARAMETER,
                       f"{path}: cannot be written ({exc.strerror or exc})") from None
    return COMPLETED


class _NotProvisioned(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@method(SERVICE, "ProvisionMachine")
def provision_machine(ctx: Ctx, target: Instance | None, args: Args) -> int:
    machine_id = str(args.get("MachineID") or "").strip("{}").upper()
    vm = load_vm(ctx, machine_id) if machine_id else None
    job = ctx.new(JOB, NS_MSPS, InstanceID=new_guid(), AdditionalIdentifier=machine_id,
                  ElementName="Shielded VM provisioning", Caption="Provisioning job",
                  TimeSubmitted=now(), StartTime=now(), TimeOfLastStateChange=now(),
                  PercentComplete=0, DeleteOnCompletion=False, ErrorCode=0,
                  ErrorDescription="", JobStatus="Running", JobState=4)
    try:
        pdk = _check(ctx, vm, machine_id, args)
    except _NotProvisioned as refusal:
        ctx.set(job, JobState=10, ErrorCode=refusal.code, ErrorDescription=refusal.message,
                JobStatus="Failed")
        ctx.create(job, vm=vm.guid if vm is not None else None)
        ctx.output("ProvisioningJob", job)
        return refusal.code
    assert vm is not None
    security.mark_provisioned(ctx, vm, pdk.name)
    ctx.set(job, JobState=7, PercentComplete=100, JobStatus="Completed")
    ctx.create(job, vm=vm.guid)
    ctx.output("ProvisioningJob", job)
    return COMPLETED


def _check(ctx: Ctx, vm: Vm | None, machine_id: str, args: Args) -> ShieldingData:
    if not ctx.profile.guarded:
        raise _NotProvisioned(ACCESS_DENIED, "this host is not a guarded host (its Host "
                                             "Guardian Service attestation has not passed): "
                                             "shielded virtual machines cannot be provisioned "
                                             "here")
    if vm is None:
        raise _NotProvisioned(INVALID_PARAMETER, f"MachineID {machine_id!r} is not a virtual "
                                                 "machine of this host")
    if vm.state != 3:
        raise _NotProvisioned(INVALID_STATE, f"{vm.describe()} must be off to be provisioned")
    try:
        pdk = read_pdk(str(args.get("PDKPath") or ""))
        pairs = read_fsk(str(args.get("FSKPath") or ""))
    except ShieldingDataError as exc:
        raise _NotProvisioned(FILE_NOT_FOUND, str(exc)) from None
    setting = security.security_setting(ctx, vm)
    if setting is None or not setting.get("TpmEnabled"):
        raise _NotProvisioned(INVALID_STATE, f"{vm.describe()} has no virtual TPM; add one "
                                             "from this shielding data file first")
    if security.key_protector(ctx, vm) != pdk.key_protector:
        raise _NotProvisioned(INVALID_PARAMETER, f"the key protector of {vm.describe()} is not "
                                                 f"the one in shielding data {pdk.name!r}")
    missing = [key for key in pdk.fsk_keys if key not in pairs]
    if missing:
        raise _NotProvisioned(INVALID_PARAMETER, "the specialization data file lacks values "
                                                 f"for {', '.join(missing)}, which shielding "
                                                 f"data {pdk.name!r} needs")
    return pdk
