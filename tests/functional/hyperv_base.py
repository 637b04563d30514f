"""Functional tests of HyperVDriver: nova's real services, an emulated Hyper-V host each.

`HyperVTestCase` starts nova with `compute_driver = hyperv.HyperVDriver`; before each
nova-compute starts, `prepare_compute_host` makes (or reuses) an emulated host whose
hostname is the compute's and points `[hyperv] host_uri` at it. Images with real VHD /
VHDX content (built by vhdfile.testimages) are registered in nova's Glance fixture;
`vms()` opens the emulated host with hyperv_emulator to show what it now holds.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from typing import Any

import nova.conf
from tests.functional.base import NovaServicesTestCase

import vhdfile
from hyperv_emulator import init_host, open_host
from hyperv_emulator.inventory import describe
from hyperv_emulator.profiles import PRESETS
from nova_hyperv import conf as hyperv_conf
from vhdfile import testimages

MiB = 1 << 20
hyperv_conf.register_opts(nova.conf.CONF)


@functools.cache
def image_bytes(kind: str) -> bytes:
    """Bytes of a small bootable image: gen1-vhd / gen1-vhdx (MBR), gen2 (GPT + ESP)."""
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

    def setUp(self) -> None:
        super().setUp()
        self.flavor_id = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0)

    def host_state_file(self, host: str) -> str:
        return os.path.join(self.state_path, f"hyperv-{host}.db")

    def prepare_compute_host(self, host: str) -> None:
        path = self.host_state_file(host)
        if not os.path.exists(path):
            init_host(path, PRESETS[self.PROFILE].replace(hostname=host))
        self.flags(host_uri=f"emulated://{path}", group="hyperv")

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

    def instance_dir(self, server: dict[str, Any]) -> str:
        return os.path.join(self.state_path, "instances", server["id"])
