"""Which VMs have COM ports on pipes, and which are shielded (their consoles stay shut).

Read host-wide in one query each, for the driver's start-up (every running VM's
console reader starts at init_host); elsewhere the driver knows a VM's pipes from its
own plan. A port's mode is the suffix the driver gives its pipe (`<uuid>_ro` logs,
`<uuid>_rw` is interactive; anything else counts as interactive, as compute-hyperv
read them).
"""

from __future__ import annotations

import re

from nova_hyperv.cim import CimInvalidClass, CimNotFound, CimNotSupported, CimSession, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.names import SubType

__all__ = ["pipe_mode", "serial_pipes", "shielded_vms"]

_VM_SETTING = re.compile(r"^Microsoft:([0-9A-Fa-f-]{36})\\", re.IGNORECASE)


def pipe_mode(pipe: str) -> str:
    """ro (a logging port) or rw (interactive)."""
    return "ro" if pipe.lower().endswith("_ro") else "rw"


def serial_pipes(session: CimSession) -> dict[str, dict[int, str]]:
    """Every VM's COM ports that are connected to a pipe: {VM GUID: {COM number: pipe}}."""
    found: dict[str, dict[int, str]] = {}
    for port in session.query(
            f"SELECT InstanceID, AddressOnParent, Connection FROM {names.ANY_RASD} "
            f"WHERE ResourceSubType = {quote(SubType.SERIAL_PORT)}"):
        match = _VM_SETTING.match(str(port.get("InstanceID", "")))
        pipe = next(iter(port.get("Connection") or ()), "")
        if match is None or not pipe:
            continue
        slot = str(port.get("AddressOnParent", "0")).strip()
        com = int(slot) + 1 if slot.isdigit() else 1
        found.setdefault(match.group(1).upper(), {})[com] = str(pipe)
    return found


def shielded_vms(session: CimSession) -> set[str]:
    """GUIDs of the VMs whose shielding is on (none before 2016, which has no shielding)."""
    try:
        settings = session.query("SELECT InstanceID FROM Msvm_SecuritySettingData "
                                 "WHERE ShieldingRequested = TRUE")
    except (CimInvalidClass, CimNotSupported, CimNotFound):
        return set()
    return {m.group(1).upper() for s in settings
            if (m := _VM_SETTING.match(str(s.get("InstanceID", ""))))}
