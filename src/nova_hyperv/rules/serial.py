"""Serial ports: interactive_serial_port (read/write) and logging_serial_port (read only).

Each defaults to port 1; when both land on the same port, read/write wins, so one port
is always interactive and an image that sets nothing gets COM1 read/write. Each port is
a named pipe the driver's console handler reads: \\\\.\\pipe\\<instance uuid>_<ro|rw>.
"""

from __future__ import annotations

from nova_hyperv.rules.plan import SerialPortPlan
from nova_hyperv.rules.request import Image
from nova_hyperv.rules.values import Spot, whole

__all__ = ["PORTS", "serial_ports"]

PORTS = (1, 2)
DEFAULT_PORT = 1


def serial_ports(image: Image, instance_uuid: str) -> tuple[SerialPortPlan, ...]:
    modes: dict[int, str] = {}
    # Logging first, so that interactive overwrites it on a shared port.
    for key, mode in (("logging_serial_port", "ro"), ("interactive_serial_port", "rw")):
        spot = Spot("image property", key, "serial-port-invalid", "1, 2")
        port = whole(image.properties, spot)
        if port is None:
            port = DEFAULT_PORT
        elif port not in PORTS:
            raise spot.fail(image.properties.get(key), "Hyper-V VMs have serial ports 1 and 2")
        modes[port] = mode
    return tuple(
        SerialPortPlan(port=port, mode=mode, pipe=f"\\\\.\\pipe\\{instance_uuid}_{mode}")
        for port, mode in sorted(modes.items())
    )
