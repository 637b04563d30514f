"""What running VMs cost: starts and stops with NUMA placement and serial sockets, the
serving thread's idle CPU, and an echo round trip on a COM port pipe.

Prints numbers; asserts nothing. Usage:

    .venv/bin/python bench/emulator_runtime.py [--vms 100] [--idle-seconds 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from hyperv_emulator import init_host, serial
from hyperv_emulator.profiles import PRESETS, NumaNode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--echoes", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hvb", dir="/tmp"))
    profile = PRESETS["ws2022"].replace(numa_nodes=tuple(NumaNode(262144, 16)
                                                         for _ in range(4)))
    host = init_host(folder / "hv.db", profile)
    session = host.session()
    vsms = str(session.query("SELECT * FROM Msvm_VirtualSystemManagementService")[0].path)
    systems = []
    for number in range(args.vms):
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = f"vm{number}"
        vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
        system = session.invoke(vsms, "DefineSystem", SystemSettings=vssd)["ResultingSystem"]
        guid = session.get(system)["Name"]
        ports = session.query("SELECT * FROM Msvm_SerialPortSettingData WHERE InstanceID "
                              f"LIKE 'Microsoft:{guid}%'")
        for com, port in enumerate(ports, start=1):
            port["Connection"] = [f"\\\\.\\pipe\\vm{number}_{com}"]
        session.invoke(vsms, "ModifyResourceSettings", ResourceSettings=ports)
        systems.append(system)
    fds_before = len(os.listdir("/proc/self/fd"))

    start = time.perf_counter()
    for system in systems:
        session.invoke(system, "RequestStateChange", RequestedState=2)
    started = time.perf_counter() - start
    print(f"start {args.vms} VMs (2 COM pipes each): {started:.2f} s, "
          f"{started / args.vms * 1000:.1f} ms per start")
    print(f"  serving threads: {len([t for t in threading.enumerate() if 'serial' in t.name])}, "
          f"sockets: {len(list((folder / 'hv.db.pipes').glob('vm*')))}, "
          f"open fds: +{len(os.listdir('/proc/self/fd')) - fds_before}")

    cpu = time.process_time()
    time.sleep(args.idle_seconds)
    idle = time.process_time() - cpu
    print(f"idle CPU of the process while serving {args.vms} VMs: "
          f"{idle / args.idle_seconds * 100:.2f} % of one core")

    sock = serial.connect(host, "\\\\.\\pipe\\vm0_2")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    start = time.perf_counter()
    for _ in range(args.echoes):
        sock.sendall(b"x")
        sock.recv(1)
    echo = (time.perf_counter() - start) / args.echoes
    print(f"echo round trip on a COM pipe: {echo * 1e6:.0f} us")
    sock.close()

    start = time.perf_counter()
    for system in systems:
        session.invoke(system, "RequestStateChange", RequestedState=3)
    stopped = time.perf_counter() - start
    time.sleep(0.2)
    print(f"stop {args.vms} VMs: {stopped:.2f} s, {stopped / args.vms * 1000:.1f} ms per stop; "
          f"serving threads left: "
          f"{len([t for t in threading.enumerate() if 'serial' in t.name])}, "
          f"fds: +{len(os.listdir('/proc/self/fd')) - fds_before}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    session.close()
    serial.stop_serving()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
