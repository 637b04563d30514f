"""Rescue and unrescue (nova's rescue / unrescue) for instances with a local root disk.

The rescue image is taken from the image cache and copied whole into the instance's
folder as `root-rescue.<vhd|vhdx>` (a full copy, not a differencing child, so the
cache can age the image while the instance is rescued). The rules check it first
(`rules.check_rescue_image`: the VM's generation, VHDX for generation 2, no ISO, the
flavor's root size, its layout and Secure Boot with the preflight); then the VM, off,
boots it in place of its root, the root attached as a second disk
(`hyperv.rescue`), and starts. Boot-from-volume and ISO-booted instances are not
rescuable (the capability `supports_bfv_rescue` is off, so nova's API refuses the
first). Not yet: a rescue config drive (the config drive itself is another part's).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from typing import Any

from nova import exception
from nova.image import glance

from nova_hyperv import rules
from nova_hyperv.hyperv import RequestedState, VmState
from nova_hyperv.hyperv import rescue as hv_rescue
from nova_hyperv.ops import request as nova_request
from nova_hyperv.ops.errors import nova_errors
from nova_hyperv.ops.images import disk_math_for
from nova_hyperv.ops.snapshot import root_file

__all__ = ["RescueOps"]

LOG = logging.getLogger(__name__)

RESCUE_NAME = "root-rescue"


class RescueOps:
    def __init__(self, instances: Any, image_api: Any = None) -> None:
        self.instances = instances  # ops.vmops.InstanceOps
        self.image_api = image_api or glance.API()

    @property
    def client(self) -> Any:
        return self.instances.client

    def _not_rescuable(self, instance: Any, reason: str) -> exception.InstanceNotRescuable:
        return exception.InstanceNotRescuable(instance_id=instance.uuid, reason=reason)

    def _root(self, instance: Any) -> str:
        found = root_file(self.instances.instance_dir(instance))
        if found is None:
            raise self._not_rescuable(instance, "it boots from a volume")
        if found[1] == "iso":
            raise self._not_rescuable(instance, "it boots from an ISO image, not a disk")
        return found[0]

    def _rescue_files(self, instance: Any) -> list[str]:
        directory = self.instances.instance_dir(instance)
        return [os.path.join(directory, f"{RESCUE_NAME}.{fmt}") for fmt in ("vhdx", "vhd")]

    def rescue(self, context: Any, instance: Any, image_meta: Any) -> None:
        root = self._root(instance)
        image_id = image_meta.id if "id" in image_meta else None
        if not image_id:
            raise self._not_rescuable(instance, "no rescue image was given and its own "
                                                "image is unknown")
        vm = self.instances.find(instance)
        with nova_errors(instance, image_id):
            firmware = hv_rescue.read_firmware(self.client.session, vm)
            image = self.instances.images.get(context, image_id,
                                              getattr(instance, "trusted_certs", None))
            conf = self.instances.conf
            properties = dict(self.image_api.get(context, image_id).get("properties") or {})
            disk_format = image_meta.disk_format if "disk_format" in image_meta else None
            fmt = rules.check_rescue_image(
                rules.Image(id=image_id, disk_format=disk_format, properties=properties,
                            **image.file_facts(preflight=conf.hyperv.image_preflight)),  # type: ignore[arg-type]
                firmware.generation, secure_boot=firmware.secure_boot,
                root_gb=instance.flavor.root_gb, disk_math=disk_math_for(False),
                config=nova_request.hyperv_config(conf))
        rescue_path = os.path.join(self.instances.instance_dir(instance), f"{RESCUE_NAME}.{fmt}")
        swapped = False
        try:
            shutil.copyfile(image.path, rescue_path)
            with nova_errors(instance):
                vm = self.client.set_state(vm, RequestedState.TURN_OFF)
                hv_rescue.rescue_disk(self.client.session, self.client.service, vm,
                                      firmware.generation, root=root, rescue=rescue_path,
                                      timeout=self.client.job_timeout)
                swapped = True
                vm = self.client.set_state(vm, RequestedState.START)
        except BaseException:
            with contextlib.suppress(Exception):
                if swapped:
                    vm = self.client.set_state(vm, RequestedState.TURN_OFF)
                    hv_rescue.unrescue_disk(self.client.session, self.client.service, vm,
                                            firmware.generation, root=root)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(rescue_path)
            raise
        self.client.remember(instance.uuid, vm)
        LOG.info("rescued %s with image %s (generation %d)", instance.uuid, image_id,
                 firmware.generation)

    def unrescue(self, instance: Any) -> None:
        root = self._root(instance)
        vm = self.instances.find(instance)
        with nova_errors(instance):
            generation = hv_rescue.read_firmware(self.client.session, vm).generation
            if vm.state != VmState.OFF:
                vm = self.client.set_state(vm, RequestedState.TURN_OFF)
            hv_rescue.unrescue_disk(self.client.session, self.client.service, vm, generation,
                                    root=root, timeout=self.client.job_timeout)
            for path in self._rescue_files(instance):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            vm = self.client.set_state(vm, RequestedState.START)
        self.client.remember(instance.uuid, vm)
        LOG.info("unrescued %s", instance.uuid)
