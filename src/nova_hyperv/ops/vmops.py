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
from nova.compute import power_state, vm_states
from nova.console import type as ctype
from nova.virt import hardware

from nova_hyperv import rules
from nova_hyperv.hyperv import RequestedState, Vm, VmNotFound, VmState, serial
from nova_hyperv.ops import request as nova_request
from nova_hyperv.ops.configdrive import build_config_drive, check_format
from nova_hyperv.ops.console import Consoles, NoConsole
from nova_hyperv.ops.errors import nova_errors
from nova_hyperv.ops.host import HostOps
from nova_hyperv.ops.images import (
    AgingPolicy,
    CachedImage,
    ImageCache,
    create_local_disks,
    disk_math_for,
)
from nova_hyperv.ops.instance_files import REVERT_SUFFIX
from nova_hyperv.ops.metadata import device_metadata
from nova_hyperv.ops.network import NetworkOps, check_vif_types, port_security
from nova_hyperv.ops.shielding import ShieldingDataStore, shield
from nova_hyperv.ops.snapshot import instance_lock
from nova_hyperv.ops.volumes import VolumeOps

__all__ = ["POWER_STATES", "InstanceOps"]

LOG = logging.getLogger(__name__)

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


def neutron_events(network_info: Any) -> list[tuple[str, str]]:
    """The ports still down: Neutron sends network-vif-plugged once its agent binds them."""
    return [("network-vif-plugged", vif["id"]) for vif in network_info or []
            if vif.get("active", True) is False]


class InstanceOps:
    def __init__(self, host: HostOps, conf: Any, virtapi: Any = None,
                 volumes: VolumeOps | None = None) -> None:
        self.host = host
        self.conf = conf
        self.virtapi = virtapi
        self.images = ImageCache(host.instances_path, conf.image_cache.subdirectory_name)
        self.shielding = ShieldingDataStore(conf)
        self.volumes = volumes or VolumeOps(host, conf)
        self.network = NetworkOps(host, conf)
        self.consoles = Consoles(lambda pipe, timeout: self.client.open_pipe(pipe, timeout))

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

    def _image_file(self, context: Any, instance: Any, image_id: str) -> CachedImage:
        """The image's file: from the cache, or (unshelving) fetched into the instance's
        own folder: a shelved snapshot boots once and would only hold cache space."""
        trusted_certs = getattr(instance, "trusted_certs", None)
        if instance.vm_state == vm_states.SHELVED_OFFLOADED:
            return self.images.fetch_private(context, image_id, self.instance_dir(instance),
                                             trusted_certs)
        return self.images.get(context, image_id, trusted_certs)

    def plan(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
             block_device_info: Any) -> tuple[rules.VmPlan, CachedImage | None]:
        """The VM for this instance (checked), and its image file when it has one."""
        image_id = image_meta.id if "id" in image_meta else None
        if nova_request.root_volume_mapping(block_device_info) is not None:
            image_id = None  # boots from a volume: the image (if any) made the volume
        declared = image_meta.disk_format if "disk_format" in image_meta else None
        preflight = self.conf.hyperv.image_preflight
        security = port_security(context, network_info or [])
        with nova_errors(instance, image_id):
            # What Glance says first: refuse a bad request before fetching anything (a
            # VHDX registered as vhd is assumed VHDX until the file says otherwise).
            guess = {"file_format": "iso" if declared == "iso" else "vhdx"}
            first = self._plan(nova_request.build_request(
                context, instance, image_meta, network_info, block_device_info, guess,
                security))
            if first.config_drive:
                check_format(self.conf)
            image = self._image_file(context, instance, image_id) if image_id else None
            facts = image.file_facts(preflight=preflight) if image else {}
            plan = self._plan(nova_request.build_request(
                context, instance, image_meta, network_info, block_device_info, facts,
                security))
        if plan.generation_from == "image layout":
            layout = facts["layout"]
            LOG.info("instance %s: generation %d chosen from image %s's layout (%s); set "
                     "hw_machine_type on the image to choose", instance.uuid, plan.generation,
                     image_id, layout.describe())  # type: ignore[attr-defined]
        return plan, image

    def spawn(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
              block_device_info: Any, power_on: bool = True, *,
              injected_files: Any = None, admin_password: str | None = None) -> None:
        check_vif_types(network_info)
        with nova_errors(instance):
            try:
                self.client.find_vm(instance.name, instance.uuid)
            except VmNotFound:
                pass
            else:
                raise exception.InstanceExists(name=instance.name)
        directory = self.instance_dir(instance)
        try:
            # Inside: unshelve fetches into the instance's folder, removed on failure.
            plan, image = self.plan(context, instance, image_meta, network_info,
                                    block_device_info)
            # The shielding data before anything is made: a wrong reference is a fault.
            pdk = self.shielding.fetch_pdk(context, plan.vtpm.pdk_reference or "") \
                if plan.vtpm.enabled else None
            with nova_errors(instance):
                if plan.nics:  # before any file is made: is the vSwitch there?
                    self.client.switch(self.conf.hyperv.vswitch_name)
                os.makedirs(directory, exist_ok=True)
                files = dict(create_local_disks(self.images, image, plan, directory,
                                                use_cow=self.conf.use_cow_images))
                if plan.config_drive:
                    # Known before the config drive is built: its meta_data.json lists them.
                    instance.device_metadata = device_metadata(plan)
                    files["configdrive"] = build_config_drive(
                        instance, plan, directory, conf=self.conf,
                        injected_files=injected_files, admin_password=admin_password,
                        network_info=network_info)
            vm = self.build_vm(instance, plan, files, network_info, power_on,
                               block_device_info, pdk=pdk)
        except BaseException:
            self._remove_files(instance)
            raise
        LOG.info("spawned %s as VM %s (generation %d)", instance.uuid, vm.guid,
                 plan.generation)

    def build_vm(self, instance: Any, plan: rules.VmPlan, files: dict[str, str],
                 network_info: Any, power_on: bool, block_device_info: Any,
                 pdk: Any = None) -> Vm:
        """The plan's VM on its disk files (in the instance's folder) and its Cinder
        volumes (connected here), shielded when a PDK is given, started if asked: what
        spawn, a resize and a rebuilt VM share. A failure removes the VM again and
        disconnects the volumes (its files are the caller's)."""
        vm: Vm | None = None
        volumes = None
        try:
            with nova_errors(instance):
                switch = self.client.switch(self.conf.hyperv.vswitch_name) \
                    if plan.nics else None
                volumes = self.volumes.connect_for_spawn(plan, block_device_info)
                with self._ports_bound(instance, network_info, power_on):
                    vm = self.client.create_vm(plan, files=files, switch=switch,
                                               data_root=self.instance_dir(instance),
                                               volumes=volumes)
                if pdk is not None:
                    shield(self.client, vm, plan, pdk, self.instance_dir(instance), instance)
                instance.device_metadata = device_metadata(plan)
                if power_on:
                    vm = self.client.set_state(vm, RequestedState.START)
                self.client.remember(instance.uuid, vm)
            if power_on:
                self.start_console(instance)
        except BaseException:
            with contextlib.suppress(Exception):
                if vm is not None:
                    self.client.destroy(vm)
            if volumes:
                with contextlib.suppress(Exception):
                    self.volumes.disconnect_all(block_device_info)
            raise
        return vm

    def check_rebuild(self, context: Any, instance: Any, image_meta: Any, network_info: Any,
                      block_device_info: Any) -> None:
        """Refuse a rebuild the new image cannot make, before nova destroys the VM (its
        default rebuild is destroy + spawn): the plan, with the image fetched and read."""
        self.plan(context, instance, image_meta, network_info, block_device_info)

    # -- the image cache -------------------------------------------------------------

    def manage_image_cache(self, all_instances: Any) -> None:
        """Nova's periodic image cache pass: `all_instances` are the instances of every
        compute sharing this instances_path; their images are in use."""
        used = {str(i.image_ref) for i in all_instances if i.image_ref}
        report = self.images.age(used, AgingPolicy.from_conf(self.conf))
        LOG.info("image cache: %d in use, %d removed, %d unused and not old enough "
                 "(or [image_cache] remove_unused_base_images is off)", len(report.kept),
                 len(report.removed), len(report.waiting))

    def cache_image(self, context: Any, image_id: str) -> bool:
        """Pre-cache an image (nova's aggregate image cache API); True if it was fetched."""
        with nova_errors(None, image_id):
            return self.images.get(context, image_id).fetched

    # -- removal ---------------------------------------------------------------------

    def _remove_files(self, instance: Any) -> None:
        """The instance's folder, and the copy a cold migration away from this host set
        aside (ops.migration), if one is left."""
        directory = self.instance_dir(instance)
        for folder in (directory, directory + REVERT_SUFFIX):
            shutil.rmtree(folder, ignore_errors=True)

    def destroy(self, instance: Any, destroy_disks: bool = True,
                block_device_info: Any = None) -> None:
        """Remove the VM (and, with destroy_disks, its files), after any snapshot of it
        in progress unless [hyperv] force_destroy_instances."""
        self.consoles.stop(instance.uuid)
        waiting = not self.conf.hyperv.force_destroy_instances
        with instance_lock(instance.uuid) if waiting else contextlib.nullcontext():
            self._destroy(instance, destroy_disks, block_device_info)

    def _destroy(self, instance: Any, destroy_disks: bool, block_device_info: Any) -> None:
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
            self.volumes.disconnect_all(block_device_info)
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

    def set_state(self, instance: Any, requested: RequestedState,
                  vm: Vm | None = None) -> Vm:
        """`vm` if the caller has just found it (one lookup less)."""
        vm = vm or self.find(instance)
        with nova_errors(instance):
            vm = self.client.set_state(vm, requested)
        self.client.remember(instance.uuid, vm)
        if requested == RequestedState.START:
            self.start_console(instance)
        elif requested in (RequestedState.SAVE, RequestedState.TURN_OFF):
            self.consoles.stop(instance.uuid)  # the VM's pipes went with its worker
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
        self.consoles.stop(instance.uuid)

    def reboot(self, instance: Any, reboot_type: str) -> None:
        vm = self.find(instance)
        with nova_errors(instance):
            how = self.client.reboot(vm, soft=reboot_type == "SOFT",
                                     soft_timeout=self.conf.hyperv.wait_soft_reboot_seconds)
        LOG.info("%s reboot of %s done (%s)", reboot_type.lower(), instance.uuid, how)
        vm.state = VmState.RUNNING
        self.client.remember(instance.uuid, vm)
        self.start_console(instance)  # a no-op while its reader runs (it reconnects)

    def power_on(self, instance: Any, block_device_info: Any = None) -> None:
        """Start the VM; its passthrough volumes first follow their host disks."""
        with nova_errors(instance):
            vm = self.volumes.fix_disk_paths(instance, block_device_info)
        self.set_state(instance, RequestedState.START, vm)

    def resume_state_on_host_boot(self, instance: Any, block_device_info: Any = None) -> None:
        vm = self.find(instance)
        if vm.state != VmState.RUNNING:
            self.power_on(instance, block_device_info)

    # -- consoles --------------------------------------------------------------------

    def start_console(self, instance: Any) -> None:
        """Log the running VM's console (not a shielded VM's)."""
        pipes, shielded = nova_request.console_pipes(instance)
        if not shielded:
            self.consoles.start(instance.uuid, self.instance_dir(instance), pipes)

    def start_consoles(self) -> None:
        """At start-up: a console reader for every running VM of an instance (3 queries)."""
        with nova_errors():
            snapshot = self.client.snapshot()
            running = {s.guid: s.instance_uuid for s in snapshot.summaries
                       if s.instance_uuid and s.state in (VmState.RUNNING, VmState.PAUSED)}
            if not running:
                return
            shielded = self.client.shielded_vms()
            for guid, ports in self.client.serial_pipes().items():
                uuid = running.get(guid)
                if uuid is None or guid in shielded:
                    continue
                pipes = {serial.pipe_mode(pipe): pipe for _, pipe in sorted(ports.items())}
                self.consoles.start(uuid, os.path.join(self.host.instances_path, uuid), pipes)

    def console_output(self, instance: Any) -> bytes:
        _, shielded = nova_request.console_pipes(instance)
        if shielded:
            raise exception.ConsoleNotAvailable(
                message="Guest does not have a console available: a shielded VM's console "
                        "is not readable from the host")
        try:
            return self.consoles.output(instance.uuid, self.instance_dir(instance))
        except NoConsole as exc:
            raise exception.ConsoleNotAvailable(
                message=f"Guest does not have a console available: {exc}") from exc

    def serial_console(self, instance: Any) -> ctype.ConsoleSerial:
        def unavailable(why: str) -> exception.ConsoleTypeUnavailable:
            return exception.ConsoleTypeUnavailable(
                message=f"Unavailable console type serial: {why}", console_type="serial")

        if not self.conf.serial_console.enabled:
            raise unavailable("[serial_console] enabled is off on this compute host")
        _, shielded = nova_request.console_pipes(instance)
        if shielded:
            raise unavailable("a shielded VM's serial port is not reachable from the host")
        try:
            host, port = self.consoles.serial(
                instance.uuid, str(self.conf.serial_console.proxyclient_address))
        except NoConsole as exc:
            raise unavailable(str(exc)) from exc
        return ctype.ConsoleSerial(host=host, port=port)

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
