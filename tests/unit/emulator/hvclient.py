"""A driver-like client of an emulated Hyper-V host, for the provider tests.

(A module of its own, not conftest, so test modules can import it by name.)
"""

from __future__ import annotations

from pathlib import Path

from hyperv_emulator.host import init_host
from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import HostProfile
from hyperv_emulator.session import MethodResult, Session

VSMS_QUERY = "SELECT * FROM Msvm_VirtualSystemManagementService"


class Client:
    """What a driver does over a session: clone templates, call the service, poll jobs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.vsms = str(session.query(VSMS_QUERY)[0].path)

    def call(self, method: str, **inputs: object) -> MethodResult:
        return self.session.invoke(self.vsms, method, **inputs)

    def job(self, result: MethodResult) -> Instance:
        assert result.return_value == 4096, result
        return self.session.get(result.job)

    def ok(self, result: MethodResult) -> MethodResult:
        """A call that worked: 0, or a job that completed."""
        if result.return_value == 4096:
            job = self.job(result)
            assert (job["JobState"], job["ErrorCode"]) == (7, 0), job["ErrorDescription"]
        else:
            assert result.return_value == 0, result
        return result

    def refused(self, result: MethodResult, code: int) -> Instance:
        """A call Hyper-V refused the way it refuses adds and modifies: a failed job."""
        job = self.job(result)
        assert (job["JobState"], job["ErrorCode"]) == (10, code), job["ErrorDescription"]
        return job

    def define(self, name: str = "vm1", generation: int = 2, **values: object) -> str:
        vssd = self.session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = name
        if generation == 2:
            vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
        vssd.update(values)
        return self.ok(self.call("DefineSystem", SystemSettings=vssd))["ResultingSystem"]

    def vssd(self, system: str) -> Instance:
        guid = self.session.get(system)["Name"]
        return self.session.query(
            f"SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID = 'Microsoft:{guid}'"
        )[0]

    def devices(self, system: str, class_name: str = "CIM_ResourceAllocationSettingData",
                subtype: str | None = None) -> list[Instance]:
        guid = self.session.get(system)["Name"]
        found = self.session.query(
            f"SELECT * FROM {class_name} WHERE InstanceID LIKE 'Microsoft:{guid}%'")
        return [d for d in found if subtype is None or
                subtype in (d["ResourceSubType"], d["OtherResourceType"])]

    def template(self, subtype: str, class_name: str = "CIM_ResourceAllocationSettingData"
                 ) -> Instance:
        found = self.session.query(
            f"SELECT * FROM {class_name} WHERE ResourceSubType = '{subtype}' AND "
            "InstanceID LIKE '%\\\\Default'")
        assert len(found) == 1, found
        return found[0]

    def add(self, system: str, *settings: Instance) -> MethodResult:
        return self.call("AddResourceSettings", AffectedConfiguration=system,
                         ResourceSettings=list(settings))

    def add_ok(self, system: str, setting: Instance) -> str:
        return self.ok(self.add(system, setting))["ResultingResourceSettings"][0]

    def scsi(self, system: str) -> str:
        return self.add_ok(system, self.template(HV + "Synthetic SCSI Controller"))

    def drive(self, system: str, controller: str, slot: int | None = None,
              subtype: str = "Synthetic Disk Drive") -> MethodResult:
        drive = self.template(HV + subtype)
        drive["Parent"] = controller
        if slot is not None:
            drive["AddressOnParent"] = slot
        return self.add(system, drive)

    def media(self, system: str, drive: str, path: str = "C:\\vm\\disk.vhdx",
              subtype: str = "Virtual Hard Disk") -> MethodResult:
        media = self.template(HV + subtype, "Msvm_StorageAllocationSettingData")
        media["Parent"] = drive
        media["HostResource"] = [path]
        return self.add(system, media)

    def nic(self, system: str, name: str = "port-1", mac: str | None = None) -> MethodResult:
        nic = self.session.query("SELECT * FROM Msvm_SyntheticEthernetPortSettingData "
                                 "WHERE InstanceID LIKE '%\\\\Default'")[0]
        nic["ElementName"] = name
        if mac is not None:
            nic["Address"] = mac
            nic["StaticMacAddress"] = True
        return self.add(system, nic)

    def state(self, system: str, requested: int) -> MethodResult:
        return self.session.invoke(system, "RequestStateChange", RequestedState=requested)

    def enabled_state(self, system: str) -> int:
        return int(self.session.get(system)["EnabledState"])


HV = "Microsoft:Hyper-V:"


def client_for(tmp_path: Path, preset: str | HostProfile) -> Client:
    """A client of a fresh host of that preset (or profile) under tmp_path."""
    name = preset if isinstance(preset, str) else preset.hostname
    return Client(init_host(tmp_path / f"{name}.db", preset).session())
