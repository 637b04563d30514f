"""An emulated Hyper-V host speaking WMI v2 (root\\virtualization\\v2).

The public, in-process API (see docs/emulator.md):

    host = init_host("state.db", "ws2022")       # or open_host("state.db")
    with host.session() as session:
        vms = session.query("SELECT * FROM Msvm_ComputerSystem")
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = "vm1"
        result = session.invoke(service_path, "DefineSystem", SystemSettings=vssd)

`hyperv_emulator.wmi` is the same host behind PyMI's `wmi` interface, and
`hyperv_emulator.oswin.enable()` points an installed os-win at it.
`hyperv_emulator.serial` serves running VMs' COM port pipes as Unix sockets (imported
here: its hooks follow every VM that starts or stops in this process), and
`Host.faults` / `Host.restart()` inject faults.
"""

from hyperv_emulator import serial  # noqa: F401  (registers its hooks)
from hyperv_emulator.cimxml import from_cimxml, to_cimxml
from hyperv_emulator.counters import Counters, RoundTrips
from hyperv_emulator.errors import CimError
from hyperv_emulator.host import Host, init_host, open_host, reset_host
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import ObjectPath, parse_path
from hyperv_emulator.providers.base import HostSettings
from hyperv_emulator.session import MethodResult, Session

__all__ = [
    "CimError",
    "Counters",
    "Host",
    "HostSettings",
    "Instance",
    "MethodResult",
    "ObjectPath",
    "RoundTrips",
    "Session",
    "from_cimxml",
    "init_host",
    "open_host",
    "parse_path",
    "reset_host",
    "to_cimxml",
]
