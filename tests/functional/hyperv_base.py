"""Functional tests of HyperVDriver: nova's real services, an emulated Hyper-V host each.

`HyperVTestCase` starts nova with `compute_driver = hyperv.HyperVDriver`; before each
nova-compute starts, `prepare_compute_host` makes (or reuses) an emulated host whose
hostname is the compute's and points `[hyperv] host_uri` at it. Images with real VHD /
VHDX content (built by vhdfile.testimages) are registered in nova's Glance fixture;
`vms()` opens the emulated host with hyperv_emulator to show what it now holds.

Several hosts (`COMPUTE_HOSTS`): nova 34 keeps one node identity and one instances_path
per process. As in the local cloud (nova_hyperv.cloud.computes), the first host uses
nova's own; each other host gets its own node identity and instances path in its folder
(`state_path/hosts/<host>`), given to its driver when nova creates it.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import nova.conf
from nova.virt import driver as virt_driver
from tests.functional.base import NovaServicesTestCase

import vhdfile
from hyperv_emulator import init_host, open_host
from hyperv_emulator.inventory import describe
from hyperv_emulator.profiles import PRESETS
from nova_hyperv import conf as hyperv_conf
from nova_hyperv.cloud import computes
from vhdfile import testimages

MiB = 1 << 20
GiB = 1 << 30
hyperv_conf.register_opts(nova.conf.CONF)


@functools.cache
def image_bytes(kind: str) -> bytes:
    """Bytes of a small image: gen1-vhd / gen1-vhdx (MBR), gen2 (GPT + ESP with a loader),
    gen2-no-loader (an empty ESP), hybrid (both), big (blank, 2 GiB), iso, raw."""
    with tempfile.TemporaryDirectory() as scratch:
        if kind == "gen1-vhd":
            path = os.path.join(scratch, "image.vhd")
            testimages.mbr_bios_image(path, format="vhd", size=32 * MiB)
        elif kind == "gen1-vhdx":
            path = os.path.join(scratch, "image.vhdx")
            testimages.mbr_bios_image(path, format="vhdx", size=32 * MiB)
        elif kind == "gen2":
            path = os.path.join(scratch, "image.vhdx")
            testimages.gpt_uefi_image(path, size=64 * MiB)
        elif kind == "gen2-no-loader":  # GPT with an empty EFI system partition
            path = os.path.join(scratch, "image.vhdx")
            testimages.gpt_uefi_image(path, size=64 * MiB, loader=None)
        elif kind == "hybrid":  # GPT + ESP with a loader + BIOS boot partition
            path = os.path.join(scratch, "image.vhdx")
            testimages.gpt_uefi_image(path, size=64 * MiB, bios_boot=True)
        elif kind == "big":  # a 2 GiB disk (a few MiB of file): too big for root_gb=1
            path = os.path.join(scratch, "image.vhdx")
            vhdfile.create(path, "vhdx", "dynamic", 2 << 30)
        elif kind == "iso":
            data = bytearray(64 * 2048)
            data[32769:32774] = b"CD001"
            return bytes(data)
        elif kind == "raw":
            return b"\0" * (1 * MiB)
        else:
            raise ValueError(kind)
        with open(path, "rb") as stream:
            return stream.read()


class HyperVTestCase(NovaServicesTestCase):
    COMPUTE_DRIVER = "hyperv.HyperVDriver"
    PROFILE = "ws2022"
    # Changes to the preset for every host of the test, e.g. {"guarded": True}.
    PROFILE_CHANGES: ClassVar[dict[str, Any]] = {}

    def setUp(self) -> None:
        super().setUp()
        self.flavor_id = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0)
        self._glance_edge()

    def _glance_edge(self) -> None:
        """Glance is the outer edge: count downloads, and keep the data an upload sends
        (nova's GlanceFixture drops it), so snapshots can be read back and unshelved."""
        self.downloads: list[str] = []
        glance = self.glance
        download, update = glance.download, glance.update

        def counted(context: Any, image_id: Any, *args: Any, **kwargs: Any) -> Any:
            self.downloads.append(str(image_id))
            return download(context, image_id, *args, **kwargs)

        def keeping_data(context: Any, image_id: Any, metadata: Any, data: Any = None,
                         purge_props: bool = False) -> Any:
            if data is not None:
                glance._imagedata[image_id] = (data.read() if hasattr(data, "read")
                                               else b"".join(data))
            return update(context, image_id, metadata, purge_props=purge_props)

        glance.download = counted
        glance.update = keeping_data

    def image_data(self, image_id: str) -> bytes:
        return bytes(self.glance._imagedata.get(image_id, b""))

    def host_state_file(self, host: str) -> str:
        return os.path.join(self.state_path, f"hyperv-{host}.db")

    def host_folder(self, host: str) -> Path:
        return Path(self.state_path) / "hosts" / host

    def instances_path(self, host: str = "compute1") -> str:
        if host == self.COMPUTE_HOSTS[0]:
            return os.path.join(self.state_path, "instances")
        return str(computes.own_instances_path(self.host_folder(host)))

    def prepare_compute_host(self, host: str) -> None:
        path = self.host_state_file(host)
        if not os.path.exists(path):
            init_host(path, PRESETS[self.PROFILE].replace(hostname=host,
                                                          **self.PROFILE_CHANGES))
        self.flags(host_uri=f"emulated://{path}", group="hyperv")
        self.flags(instances_path=self.instances_path(host))

    def start_service(self, name: str, host: str | None = None, **kwargs: Any) -> Any:
        if name != "compute" or host in (None, self.COMPUTE_HOSTS[0]):
            return super().start_service(name, host=host, **kwargs)
        folder = self.host_folder(host)
        folder.mkdir(parents=True, exist_ok=True)
        load = virt_driver.load_compute_driver

        def load_with_own_identity(virtapi: Any, compute_driver: Any = None) -> Any:
            loaded = load(virtapi, compute_driver)
            computes.give_own_node_identity(loaded, folder)
            return loaded

        with mock.patch.object(virt_driver, "load_compute_driver", load_with_own_identity):
            return super().start_service(name, host=host, **kwargs)

    def use_pymi(self, host: str) -> None:
        """Make `host`'s compute use `host_uri = wmi://.`, with the emulator's
        PyMI-compatible facade standing in for PyMI's `wmi` module (as on Windows)."""
        import sys

        from hyperv_emulator import wmi

        wmi.bind(self.host_state_file(host))
        sys.modules["wmi"] = wmi
        self.addCleanup(sys.modules.pop, "wmi", None)
        self.addCleanup(wmi.unbind)
        self.flags(host_uri="wmi://.", group="hyperv")

    # -- images ---------------------------------------------------------------------

    def create_image(self, kind: str = "gen1-vhdx", *, disk_format: str | None = None,
                     **properties: Any) -> str:
        if disk_format is None:
            disk_format = {"gen1-vhd": "vhd", "iso": "iso", "raw": "raw"}.get(kind, "vhdx")
        image = self.glance.create(None, {
            "name": f"{kind}-image", "status": "active", "disk_format": disk_format,
            "container_format": "bare", "properties": dict(properties),
        }, data=io.BytesIO(image_bytes(kind)))
        return str(image["id"])

    def boot(self, image: str | None = None, *, flavor: str | None = None,
             networks: Any = "none", expected_state: str = "ACTIVE",
             name: str | None = None) -> dict[str, Any]:
        body = self._build_server(name=name, image_uuid=image or self.create_image(),
                                  flavor_id=flavor or self.flavor_id, networks=networks)
        server = self.api.post_server({"server": body})
        return self._wait_for_state_change(server, expected_state)

    def fault(self, server: dict[str, Any]) -> str:
        shown = self.api.get_server(server["id"])
        return str(shown.get("fault", {}).get("message", ""))

    # -- the emulated host ------------------------------------------------------------

    def vms(self, host: str = "compute1") -> list[dict[str, Any]]:
        with open_host(self.host_state_file(host)).session() as session:
            return describe(session)["vms"]

    def vm(self, server: dict[str, Any], host: str = "compute1") -> dict[str, Any]:
        [found] = [vm for vm in self.vms(host) if vm["notes"] == [server["id"]]]
        return found

    def host_traits(self, host: str = "compute1") -> set[str]:
        """The placement traits of the compute node on `host`."""
        return set(self._get_provider_traits(self._get_provider_uuid_by_host(host)))

    def instance_dir(self, server: dict[str, Any], host: str = "compute1") -> str:
        return os.path.join(self.instances_path(host), server["id"])

    def cache_dir(self, host: str = "compute1") -> str:
        return os.path.join(self.instances_path(host), "_base")


class TwoHostsTestCase(HyperVTestCase):
    """Two emulated hosts, for moving servers between them."""

    COMPUTE_HOSTS = ("compute1", "compute2")
    # Casts stay casts, as in production: a compute's failure reaches the server's
    # state and its instance actions, not the API caller.
    CAST_AS_CALL = False

    failures = 0

    def wait_for_failure(self) -> None:
        """Until a compute has failed once more, all its clean-up done (nova's
        wrap_exception, outermost, notifies compute.exception last)."""
        self.failures += 1
        self.notifier.wait_for_versioned_notifications("compute.exception",
                                                       n_events=self.failures)

    def host_of(self, server: dict[str, Any]) -> str:
        return str(self.api.get_server(server["id"])["OS-EXT-SRV-ATTR:host"])

    def other(self, host: str) -> str:
        return "compute2" if host == "compute1" else "compute1"

    def files(self, server: dict[str, Any], host: str, suffix: str = "") -> list[str]:
        """The instance's files there, but for the console log its running VM writes."""
        folder = self.instance_dir(server, host) + suffix
        if not os.path.isdir(folder):
            return []
        return sorted(e.name for e in os.scandir(folder)
                      if e.is_file() and not e.name.startswith("console.log"))

    def disk_size(self, server: dict[str, Any], host: str, name: str) -> int:
        return vhdfile.inspect(os.path.join(self.instance_dir(server, host), name)).virtual_size

    def vms_of(self, server: dict[str, Any], host: str) -> list[dict[str, Any]]:
        return [vm for vm in self.vms(host) if vm["notes"] == [server["id"]]]

    def flavor(self, *, vcpu: int = 1, memory_mb: int = 1024, disk: int = 1,
               ephemeral: int = 0, swap: int = 0, **extra_spec: str) -> str:
        return self._create_flavor(memory_mb=memory_mb, vcpu=vcpu, disk=disk,
                                   ephemeral=ephemeral, swap=swap,
                                   extra_spec=extra_spec or None)
