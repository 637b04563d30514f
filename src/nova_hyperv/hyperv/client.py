"""HyperVClient: one Hyper-V host over one CimSession, for the driver's ops modules.

It keeps what does not change between calls (the management service, the host's
description, the vSwitch paths) and a host-wide snapshot of every VM's state, so that
the driver's periodic tasks cost a fixed number of round trips whatever the VM count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from nova_hyperv.cim import CimInstance, CimSession
from nova_hyperv.cim.pipes import SerialPipe
from nova_hyperv.hyperv import build, network, power, security, serial, vms
from nova_hyperv.hyperv.host import HostInfo, VSwitch, find_switch, read_host
from nova_hyperv.hyperv.names import RequestedState
from nova_hyperv.hyperv.network import Port
from nova_hyperv.hyperv.vms import Vm, VmSummary
from nova_hyperv.hyperv.volumes import HostVolume
from nova_hyperv.rules import NicPlan, VmPlan

__all__ = ["HyperVClient", "Snapshot"]


class Snapshot:
    """Every VM's summary as read at `taken` (monotonic seconds)."""

    def __init__(self, summaries: list[VmSummary]) -> None:
        self.taken = time.monotonic()
        # By GUID: the driver's own changes replace one entry in O(1) (remember/forget
        # run on every spawn, power change and destroy, with thousands of VMs here).
        self.by_guid = {s.guid: s for s in summaries}
        self.by_uuid = {s.instance_uuid: s for s in summaries if s.instance_uuid}

    @property
    def summaries(self) -> list[VmSummary]:
        return list(self.by_guid.values())

    @property
    def age(self) -> float:
        return time.monotonic() - self.taken


class HyperVClient:
    def __init__(self, session: CimSession, *, job_timeout: float | None = 600.0) -> None:
        self.session = session
        self.job_timeout = job_timeout
        self._lock = threading.Lock()
        self._service: CimInstance | None = None
        self._host: HostInfo | None = None
        self._switches: dict[str, VSwitch] = {}
        self._snapshot: Snapshot | None = None
        self._security_service: CimInstance | None = None

    # -- host ----------------------------------------------------------------------

    @property
    def service(self) -> CimInstance:
        if self._service is None:
            [self._service] = self.session.query(
                "SELECT * FROM Msvm_VirtualSystemManagementService")
        return self._service

    def host(self, refresh: bool = False) -> HostInfo:
        if refresh or self._host is None:
            self._host = read_host(self.session)
        return self._host

    def switch(self, name: str | None) -> VSwitch:
        key = (name or "").lower()
        with self._lock:
            found = self._switches.get(key)
        if found is None:
            found = find_switch(self.session, name)
            with self._lock:
                self._switches[key] = found
        return found

    def forget_switches(self) -> None:
        with self._lock:
            self._switches.clear()

    # -- VMs -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Read every VM's name, instance uuid and state now (one round trip)."""
        taken = Snapshot(vms.list_vms(self.session, self.service))
        with self._lock:
            self._snapshot = taken
        return taken

    def cached_snapshot(self, max_age: float) -> Snapshot | None:
        with self._lock:
            found = self._snapshot
        return found if found is not None and found.age <= max_age else None

    def remember(self, uuid: str | None, vm: Vm) -> None:
        """Keep the snapshot true after a change the driver made itself."""
        if not uuid:
            return
        with self._lock:
            found = self._snapshot
            if found is None:
                return
            summary = VmSummary(vm.guid, vm.name, uuid, vm.state)
            found.by_uuid[uuid] = summary
            found.by_guid[vm.guid] = summary

    def forget(self, uuid: str) -> None:
        with self._lock:
            found = self._snapshot
            if found is not None:
                gone = found.by_uuid.pop(uuid, None)
                if gone is not None:
                    found.by_guid.pop(gone.guid, None)

    def find_vm(self, name: str, uuid: str | None = None) -> Vm:
        return vms.find_vm(self.session, name, uuid)

    def owns(self, vm: Vm, uuid: str) -> bool:
        return vms.check_owner(self.session, vm, uuid)

    def create_vm(self, plan: VmPlan, *, files: Mapping[str, str], switch: VSwitch | None,
                  data_root: str, volumes: Mapping[str, HostVolume] | None = None) -> Vm:
        return build.create_vm(
            self.session, self.service, plan, files=files, switch=switch,
            data_root=data_root, host_version=self.host().windows_version, volumes=volumes,
            timeout=self.job_timeout)

    def set_state(self, vm: Vm, requested: RequestedState) -> Vm:
        return power.request_state(self.session, vm, requested, self.job_timeout)

    def soft_shutdown(self, vm: Vm, timeout: float, retry_interval: float = 5.0) -> bool:
        return power.soft_shutdown(self.session, vm, timeout, retry_interval)

    def reboot(self, vm: Vm, *, soft: bool, soft_timeout: float) -> str:
        return power.reboot(self.session, vm, soft=soft, soft_timeout=soft_timeout,
                            timeout=self.job_timeout)

    def destroy(self, vm: Vm) -> None:
        power.destroy(self.session, self.service, vm, self.job_timeout)

    # -- vTPM and shielding -------------------------------------------------------------

    def apply_vtpm(self, vm: Vm, *, pdk_path: str, fsk_path: str, shielded: bool,
                   substitutions: Sequence[tuple[str, str]]) -> None:
        if self._security_service is None:
            [self._security_service] = self.session.query(
                f"SELECT * FROM {security.SECURITY_SERVICE}")
        security.apply_vtpm(self.session, vm, pdk_path=pdk_path, fsk_path=fsk_path,
                            shielded=shielded, substitutions=substitutions,
                            timeout=self.job_timeout, security_service=self._security_service)

    def is_shielded(self, vm: Vm) -> bool:
        return security.is_shielded(self.session, vm)

    # -- network adapters ------------------------------------------------------------

    def generation(self, vm: Vm) -> int:
        return vms.generation(self.session, vm)

    def ports(self, vm: Vm) -> dict[str, Port]:
        """The VM's NICs by lower-cased name (port id), with their switch ports."""
        return network.read_ports(self.session, vm.guid)

    def find_nic(self, vm: Vm, name: str) -> Port | None:
        return network.find_nic(self.session, vm.guid, name)

    def add_nic(self, vm: Vm, nic: NicPlan, switch: VSwitch) -> None:
        network.add_nic(self.session, self.service, vm.path, nic, switch, self.job_timeout)

    def remove_nic(self, port: Port) -> None:
        network.remove_nic(self.session, self.service, port, self.job_timeout)

    def connect(self, vm: Vm, port: Port, nic: NicPlan, switch: VSwitch) -> bool:
        return network.connect(self.session, self.service, vm.path, port, nic, switch,
                               self.job_timeout)

    def disconnect(self, port: Port) -> bool:
        return network.disconnect(self.session, self.service, port, self.job_timeout)

    # -- serial ports ----------------------------------------------------------------

    def serial_pipes(self) -> dict[str, dict[int, str]]:
        return serial.serial_pipes(self.session)

    def shielded_vms(self) -> set[str]:
        return security.shielded_vms(self.session)

    def open_pipe(self, pipe: str, timeout: float = 5.0) -> SerialPipe:
        return self.session.open_pipe(pipe, timeout)
