"""Which VMs have COM ports on pipes.

Read host-wide in one query each, for the driver's start-up (every running VM's
console reader starts at init_host); elsewhere the driver knows a VM's pipes from its
own plan. A port's mode is the suffix the driver gives its pipe (`<uuid>_ro` logs,
`<uuid>_rw` is interactive; anything else counts as interactive, as compute-hyperv
read them).
"""

from __future__ import annotations

from nova_hyperv.cim import CimSession, quote
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.names import SubType

__all__ = ["pipe_mode", "serial_pipes"]


def pipe_mode(pipe: str) -> str:
    """ro (a logging port) or rw (interactive)."""
    return "ro" if pipe.lower().endswith("_ro") else "rw"


def serial_pipes(session: CimSession) -> dict[str, dict[int, str]]:
    """Every VM's COM ports that are connected to a pipe: {VM GUID: {COM number: pipe}}."""
    found: dict[str, dict[int, str]] = {}
    for port in session.query(
            f"SELECT InstanceID, AddressOnParent, Connection FROM {names.ANY_RASD} "
            f"WHERE ResourceSubType = {quote(SubType.SERIAL_PORT)}"):
        guid = names.vm_guid_of(port.get("InstanceID"))
        pipe = next(iter(port.get("Connection") or ()), "")
        if guid is None or not pipe:
            continue
        slot = str(port.get("AddressOnParent", "0")).strip()
        com = int(slot) + 1 if slot.isdigit() else 1
        found.setdefault(guid, {})[com] = str(pipe)
    return found

