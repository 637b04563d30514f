"""Finding VMs, listing them, reading their state, and removing them.

A VM made by the driver is named after the instance (`instance.name`) and carries the
instance uuid as its first note. Lookups go by name (one query); when several VMs share
the name (Hyper-V allows it) the note decides, and destroy always checks the note, so a
VM that is not the instance's is never removed.

Listing and the power-state snapshot use one GetSummaryInformation call for every VM
(name, notes, state), so they cost one round trip whatever the number of VMs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nova_hyperv.cim import CimInstance, CimNotFound, CimSession, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.errors import VmNotFound
from nova_hyperv.hyperv.names import VmState

__all__ = ["Vm", "VmSummary", "check_owner", "find_vm", "generation", "list_vms", "refresh",
           "vm_from_system"]

_GUID = re.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")
# Summary ids: 0 Name (GUID), 1 ElementName, 3 Notes, 100 EnabledState, 105 UpTime.
SUMMARY_IDS = [0, 1, 3, 100]


@dataclass
class Vm:
    """A VM as last seen: the path of its Msvm_ComputerSystem (the target of state
    changes), its state, and the instance read from the host when there is one (the
    wmi adapter then calls methods on it without fetching it again)."""

    path: str
    name: str
    guid: str
    state: VmState
    system: CimInstance | None = None
    uptime_ms: int = 0

    @property
    def target(self) -> CimInstance | str:
        return self.system if self.system is not None else self.path

    @property
    def vssd_id(self) -> str:
        return f"Microsoft:{self.guid}"


def vm_from_system(system: CimInstance, name: str | None = None) -> Vm:
    return Vm(
        path=system.path,
        name=name if name is not None else str(system.get("ElementName", "")),
        guid=str(system["Name"]).upper(),
        state=_state(system.get("EnabledState", 0)),
        system=system,
        uptime_ms=int(system.get("OnTimeInMilliseconds", 0) or 0),
    )


@dataclass(frozen=True)
class VmSummary:
    guid: str
    name: str
    instance_uuid: str | None
    state: VmState


def _state(value: object) -> VmState:
    try:
        return VmState(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return VmState.UNKNOWN


def _is_vm(system: CimInstance) -> bool:
    return bool(_GUID.match(str(system.get("Name", ""))))


def _uuid_note(notes: object) -> str | None:
    """The instance uuid the driver wrote as the first note (None for other VMs)."""
    if not notes:
        return None
    first = notes if isinstance(notes, str) else next(iter(notes), "")  # type: ignore[call-overload]
    text = str(first).strip().lower()
    return text if _GUID.match(text) else None


def find_vm(session: CimSession, name: str, uuid: str | None = None) -> Vm:
    """The VM of an instance; VmNotFound when there is none (or only foreign ones)."""
    systems = [s for s in session.query(
        f"SELECT * FROM {names.COMPUTER_SYSTEM} WHERE ElementName = {quote(name)}")
        if _is_vm(s)]
    if len(systems) > 1 and uuid:
        settings = session.query(
            f"SELECT InstanceID, Notes, VirtualSystemIdentifier FROM {names.VSSD} "
            f"WHERE ElementName = {quote(name)} AND VirtualSystemType = {quote(names.REALIZED)}")
        ours = {str(s["VirtualSystemIdentifier"]).upper() for s in settings
                if _uuid_note(s.get("Notes")) == uuid.lower()}
        systems = [s for s in systems if str(s["Name"]).upper() in ours]
    if not systems:
        raise VmNotFound(name, uuid)
    return vm_from_system(systems[0], name)


def check_owner(session: CimSession, vm: Vm, uuid: str) -> bool:
    """Whether the VM's first note is the instance uuid (one round trip)."""
    [settings] = session.query(
        f"SELECT InstanceID, Notes FROM {names.VSSD} WHERE InstanceID = {quote(vm.vssd_id)}")
    return _uuid_note(settings.get("Notes")) == uuid.lower()


def generation(session: CimSession, vm: Vm) -> int:
    """1 or 2, from the VM's VirtualSystemSubType (one round trip)."""
    [settings] = session.query(
        f"SELECT InstanceID, VirtualSystemSubType FROM {names.VSSD} "
        f"WHERE InstanceID = {quote(vm.vssd_id)}")
    return 2 if str(settings.get("VirtualSystemSubType", "")) == names.SUBTYPES[2] else 1


def refresh(session: CimSession, vm: Vm) -> Vm:
    """The VM read again (one round trip); VmNotFound if it is gone."""
    try:
        system = session.get(vm.path)
    except CimNotFound as exc:
        raise VmNotFound(vm.name) from exc
    return vm_from_system(system, vm.name)


def list_vms(session: CimSession, service: CimInstance) -> list[VmSummary]:
    """Every VM of the host with its name, instance uuid and state: one round trip."""
    result = session.invoke(service, "GetSummaryInformation",
                            RequestedInformation=SUMMARY_IDS)
    session.finish(result, "reading the VMs' summary")
    found = []
    for summary in result.get("SummaryInformation", []) or []:
        found.append(VmSummary(
            guid=str(summary.get("Name", "")).upper(),
            name=str(summary.get("ElementName", "")),
            instance_uuid=_uuid_note(summary.get("Notes")),
            state=_state(summary.get("EnabledState", 0)),
        ))
    return found
