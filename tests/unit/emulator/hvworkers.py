"""Work run in other processes by the concurrency tests (importable by name)."""

from __future__ import annotations

from hyperv_emulator import open_host

VSMS = "SELECT * FROM Msvm_VirtualSystemManagementService"


def define_many(state: str, prefix: str, count: int) -> list[int]:
    """Define VMs `prefix-0..count-1`, each with a SCSI controller; return the codes."""
    host = open_host(state)
    codes = []
    with host.session() as session:
        service = session.query(VSMS)[0].path
        for number in range(count):
            vssd = session.new_instance("Msvm_VirtualSystemSettingData")
            vssd["ElementName"] = f"{prefix}-{number}"
            vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
            result = session.invoke(service, "DefineSystem", SystemSettings=vssd)
            codes.append(result.return_value)
            if result.return_value != 0:
                continue
            scsi = session.query(
                "SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceSubType = "
                "'Microsoft:Hyper-V:Synthetic SCSI Controller' AND InstanceID LIKE '%\\\\Default'"
            )[0]
            added = session.invoke(service, "AddResourceSettings",
                                   AffectedConfiguration=result["ResultingSystem"],
                                   ResourceSettings=[scsi])
            codes.append(added.return_value)
    return codes


def define_same(state: str, name: str) -> str:
    """Try to define a VM with a given name; the job's outcome or the code."""
    host = open_host(state)
    with host.session() as session:
        service = session.query(VSMS)[0].path
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = name
        result = session.invoke(service, "DefineSystem", SystemSettings=vssd)
        if result.return_value == 4096:
            return f"job {session.get(result.job)['ErrorCode']}"
        return f"code {result.return_value}"
