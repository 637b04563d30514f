"""The instance's life on the host: spawn, destroy, power, state.

Spawn keeps the data flow one-way (docs/architecture.md): Nova's request -> a plan
checked by the rules (first with what Glance says, so a bad request is refused before
anything is fetched; then with the image file's own facts) -> local disk files -> the
VM (hyperv.build, which removes a partly built VM itself) -> powered on. A failure at
any step removes the VM and the instance's files and raises one error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from typing import Any

from nova import exception
from nova.compute import power_state
from nova.network import model as network_model
from nova.virt import hardware

from nova_hyperv import rules
from nova_hyperv.hyperv import RequestedState, Vm, VmNotFound, VmState
from nova_hyperv.hyperv.build import check_supported
from nova_hyperv.ops import request as nova_request
from nova_hyperv.ops.errors import nova_errors
from nova_hyperv.ops.host import HostOps
from nova_hyperv.ops.images import CachedImage, ImageCache, create_local_disks, disk_math_for
from nova_hyperv.ops.instance_files import REVERT_SUFFIX
from nova_hyperv.ops.metadata import device_metadata

__all__ = ["POWER_STATES", "SUPPORTED_VIF_TYPES", "InstanceOps"]

LOG = logging.getLogger(__name__)

SUPPORTED_VIF_TYPES = (network_model.VIF_TYPE_HYPERV, network_model.VIF_TYPE_OVS)
# Hyper-V's EnabledState -> nova's power state (transitional states count as where
# they are going).
POWER_STATES = {
    VmState.RUNNING: power_state.RUNNING,
    VmState.STARTING: power_state.RUNNING,
    VmState.RESETTING: power_state.RUNNING,
    VmState.RESUMING: power_state.RUNNING,
    VmState.OFF: power_state.SHUTDOWN,
    VmState.STOPPING: power_state.SHUTDOWN,
    VmState.HIBERNATED: power_state.SHUTDOWN,
    VmState.PAUSED: power_state.PAUSED,
    VmState.PAUSING: power_state.PAUSED,
    VmState.SAVED: power_state.SUSPENDED,
    VmState.SAVING: power_state.SUSPENDED,
    VmState.FAST_SAVED: power_state.SUSPENDED,
    VmState.FAST_SAVING: power_state.SUSPENDED,
}
# How old a host-wide state snapshot may be for get_info(use_cache=True): nova's
# power-state sync reads every instance right after get_num_instances() took it.
SNAPSHOT_MAX_AGE = 60.0


def _power_state(state: VmState) -> int:
    return POWER_STATES.get(state, power_state.NOSTATE)


def check_vifs(network_info: Any) -> None:
    for vif in network_info or []:
        if vif.get("type") not in SUPPORTED_VIF_TYPES:
            raise exception.InvalidInput(reason=
                f"port {vif.get('id')} has VIF type {vif.get('type')!r}; the Hyper-V driver "
                f"connects only {' and '.join(SUPPORTED_VIF_TYPES)} ports (the Neutron "
                "agent on the Hyper-V host must bind them)")


def neutron_events(network_info: Any) -> list[tuple[str, str]]:
    """The ports still down: Neutron sends network-vif-plugged once its agent binds them."""
    return [("network-vif-plugged", vif["id"]) for vif in network_info or []
            if vif.get("active", True) is False]


class InstanceOps:
    def __init__(self, host: HostOps, conf: Any, virtapi: Any = None) -> None:
        self.host = host
        self.conf = conf
        self.virtapi = virtapi
        self.images = ImageCache(host.instances_path)

    def _neutron_failed(self, event_name: str, instance: Any) -> None:
        LOG.error("Neutron reported failure on event %s for instance %s", event_name,
                  instance.uuid)
        if self.conf.vif_plugging_is_fatal:
            raise exception.VirtualInterfaceCreateException()

    @contextlib.contextmanager
    def _ports_bound(self, instance: Any, network_info: Any, power_on: bool) -> Any:
        """Create the VM inside: on leaving, wait for the ports Neutron still has down."""
        timeout = self.conf.vif_plugging_timeout
        events = neutron_events(network_info) if timeout and power_on else []
        if not events or self.virtapi is None:
            yield
            return
        try:
            with self.virtapi.wait_for_instance_event(instance, events, timeout=timeout,
                                                      error_callback=self._neutron_failed):
                yield
        except exception.InstanceEventTimeout:
            if self.conf.vif_plugging_is_fatal:
                raise exception.VirtualInterfaceCreateException() from None
            LOG.warning("timed out waiting for Neutron to bind the ports of %s; starting "
                        "it anyway (vif_plugging_is_fatal is off)", instance.uuid)

    @property
    def client(self) -> Any:
        return self.host.client

    def instance_dir(self, instance: Any) -> str:
        return os.path.join(self.host.instances_path, instance.uuid)

    # -- spawn -----------------------------------------------------------------------

    def _plan(self, request: rules.InstanceRequest) -> rules.VmPlan:
        return rules.plan_instance(request, self.host.info().facts,
                                   nova_request.hyperv_config(self.conf),
                                   disk_math=disk_math_for(self.conf.use_cow_images))

    def plan(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
             block_device_info: Any) -> tuple[rules.VmPlan, CachedImage | None]:
        """The VM for this instance (checked), and its cached image when it has one."""
        image_id = image_meta.id if "id" in image_meta else None
        declared = image_meta.disk_format if "disk_format" in image_meta else None
        with nova_errors(instance, image_id):
            # What Glance says first: refuse a bad request before fetching anything (a
            # VHDX registered as vhd is assumed VHDX until the file says otherwise).
            guess = {"file_format": "iso" if declared == "iso" else "vhdx"}
            check_supported(self._plan(nova_request.build_request(
                context, instance, image_meta, network_info, block_device_info, guess)))
            cached = self.images.get(context, image_id, getattr(instance, "trusted_certs",
                                                                None)) if image_id else None
            facts = cached.file_facts() if cached else {}
            plan = self._plan(nova_request.build_request(
                context, instance, image_meta, network_info, block_device_info, facts))
            check_supported(plan)
        return plan, cached

    def spawn(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
              block_device_info: Any, power_on: bool = True) -> None:
        check_vifs(network_info)
        plan, cached = self.plan(context, instance, image_meta, network_info,
                                 block_device_info)
        with nova_errors(instance):
            try:
                self.client.find_vm(instance.name, instance.uuid)
            except VmNotFound:
                pass
            else:
                raise exception.InstanceExists(name=instance.name)
            if plan.nics:  # before any file is made: is the vSwitch there?
                self.client.switch(self.conf.hyperv.vswitch_name)
        directory = self.instance_dir(instance)
        try:
            with nova_errors(instance):
                os.makedirs(directory, exist_ok=True)
                files = create_local_disks(self.images, cached, plan, directory,
                                           use_cow=self.conf.use_cow_images)
            vm = self.build_vm(instance, plan, files, network_info, power_on)
        except BaseException:
            self._remove_files(instance)
            raise
        LOG.info("spawned %s as VM %s (generation %d)", instance.uuid, vm.guid,
                 plan.generation)

    def build_vm(self, instance: Any, plan: rules.VmPlan, files: dict[str, str],
                 network_info: Any, power_on: bool) -> Vm:
        """The plan's VM on its disk files (in the instance's folder), started if asked:
        what spawn, a resize and a rebuilt VM share. A failure removes the VM again (its
        files are the caller's)."""
        vm: Vm | None = None
        try:
            with nova_errors(instance):
                switch = self.client.switch(self.conf.hyperv.vswitch_name) \
                    if plan.nics else None
                with self._ports_bound(instance, network_info, power_on):
                    vm = self.client.create_vm(plan, files=files, switch=switch,
                                               data_root=self.instance_dir(instance))
                instance.device_metadata = device_metadata(plan)
                if power_on:
                    vm = self.client.set_state(vm, RequestedState.START)
                self.client.remember(instance.uuid, vm)
        except BaseException:
            with contextlib.suppress(Exception):
                if vm is not None:
                    self.client.destroy(vm)
            raise
        return vm

    # -- removal ---------------------------------------------------------------------

    def _remove_files(self, instance: Any) -> None:
        """The instance's folder, and the copy a cold migration away from this host set
        aside (ops.migration), if one is left."""
        directory = self.instance_dir(instance)
        for folder in (directory, directory + REVERT_SUFFIX):
            shutil.rmtree(folder, ignore_errors=True)

    def destroy(self, instance: Any, destroy_disks: bool = True) -> None:
        with nova_errors(instance):
            try:
                vm = self.client.find_vm(instance.name, instance.uuid)
            except VmNotFound:
                LOG.info("no VM for %s on this host; nothing to remove", instance.uuid)
            else:
                if self.client.owns(vm, instance.uuid):
                    self.client.destroy(vm)
                else:
                    LOG.warning("VM %s named %s is not instance %s's (its note differs); "
                                "leaving it", vm.guid, instance.name, instance.uuid)
            self.client.forget(instance.uuid)
        if destroy_disks:
            self._remove_files(instance)

    # -- state -----------------------------------------------------------------------

    def find(self, instance: Any) -> Vm:
        with nova_errors(instance):
            return self.client.find_vm(instance.name, instance.uuid)

    def get_info(self, instance: Any, use_cache: bool = True) -> hardware.InstanceInfo:
        if use_cache:
            snapshot = self.client.cached_snapshot(SNAPSHOT_MAX_AGE)
            if snapshot is not None and instance.uuid in snapshot.by_uuid:
                return hardware.InstanceInfo(
                    state=_power_state(snapshot.by_uuid[instance.uuid].state))
        vm = self.find(instance)
        self.client.remember(instance.uuid, vm)
        return hardware.InstanceInfo(state=_power_state(vm.state))

    def set_state(self, instance: Any, requested: RequestedState) -> Vm:
        vm = self.find(instance)
        with nova_errors(instance):
            vm = self.client.set_state(vm, requested)
        self.client.remember(instance.uuid, vm)
        return vm

    def power_off(self, instance: Any, timeout: int = 0, retry_interval: int = 0,
                  vm: Vm | None = None) -> None:
        """Guest shutdown within `timeout`, then turn off; `vm` if the caller has it."""
        if vm is None:
            try:
                vm = self.find(instance)
            except exception.InstanceNotFound:
                LOG.warning("power off: no VM for %s on this host", instance.uuid)
                return
        with nova_errors(instance):
            if timeout > 0 and vm.state == VmState.RUNNING and self.client.soft_shutdown(
                    vm, timeout, retry_interval if retry_interval > 0 else 5):
                vm.state = VmState.OFF
            else:
                vm = self.client.set_state(vm, RequestedState.TURN_OFF)
        self.client.remember(instance.uuid, vm)

    def reboot(self, instance: Any, reboot_type: str) -> None:
        vm = self.find(instance)
        with nova_errors(instance):
            how = self.client.reboot(vm, soft=reboot_type == "SOFT",
                                     soft_timeout=self.conf.hyperv.wait_soft_reboot_seconds)
        LOG.info("%s reboot of %s done (%s)", reboot_type.lower(), instance.uuid, how)
        vm.state = VmState.RUNNING
        self.client.remember(instance.uuid, vm)

    def resume_state_on_host_boot(self, instance: Any) -> None:
        vm = self.find(instance)
        if vm.state != VmState.RUNNING:
            self.set_state(instance, RequestedState.START)

    # -- listing ---------------------------------------------------------------------

    def list_names(self) -> list[str]:
        with nova_errors():
            return [s.name for s in self.client.snapshot().summaries]

    def list_uuids(self) -> list[str]:
        with nova_errors():
            return list(self.client.snapshot().by_uuid)

    def count(self) -> int:
        """The instances on the host (VMs carrying an instance uuid)."""
        with nova_errors():
            return len(self.client.snapshot().by_uuid)
