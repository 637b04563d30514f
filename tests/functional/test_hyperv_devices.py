"""RemoteFX and PCI passthrough (DDA) through Nova's API, on hosts that have them."""

from __future__ import annotations

import os

from oslo_serialization import jsonutils
from tests.functional.hyperv_base import HyperVTestCase

from hyperv_emulator import init_host
from hyperv_emulator.profiles import PRESETS, AssignableDevice
from nova_hyperv.rules.remotefx import REMOTEFX_TRAIT


class RemoteFxTest(HyperVTestCase):
    PROFILE = "ws2016"

    def test_remotefx_flavor_gets_the_3d_adapter(self) -> None:
        self.flags(enable_remotefx=True, group="hyperv")
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0, extra_spec={
            "os:resolution": "1920x1200", "os:monitors": "2", "os:vram": "256"})
        vm = self.vm(self.boot(flavor=flavor))
        self.assertEqual({"monitors": 2, "resolution": "1920x1200", "vram_mb": 256},
                         vm["remotefx"])

    def test_a_remotefx_host_carries_the_trait_remotefx_flavors_require(self) -> None:
        self.assertNotIn(REMOTEFX_TRAIT, self.host_traits())  # enable_remotefx is off
        self.flags(enable_remotefx=True, group="hyperv")
        self.restart_compute_service(self.compute)
        self.assertIn(REMOTEFX_TRAIT, self.host_traits())
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0, extra_spec={
            "os:resolution": "1024x768", f"trait:{REMOTEFX_TRAIT}": "required"})
        self.assertEqual("1024x768", self.vm(self.boot(flavor=flavor))["remotefx"]["resolution"])

    def test_remotefx_off_in_the_config_is_a_fault(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec={"os:resolution": "1920x1200"})
        server = self.boot(flavor=flavor, expected_state="ERROR")
        self.assertIn("os:resolution = '1920x1200'", self.fault(server))
        self.assertIn("enable_remotefx", self.fault(server))


class RemoteFxOn2022Test(HyperVTestCase):
    def test_no_remotefx_trait_and_a_remotefx_flavor_finds_no_host(self) -> None:
        self.flags(enable_remotefx=True, group="hyperv")
        self.restart_compute_service(self.compute)
        self.assertNotIn(REMOTEFX_TRAIT, self.host_traits())
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0, extra_spec={
            "os:resolution": "1024x768", f"trait:{REMOTEFX_TRAIT}": "required"})
        server = self.boot(flavor=flavor, expected_state="ERROR")
        self.assertIn("No valid host", self.fault(server))
        self.assertEqual([], self.vms())

    def test_remotefx_points_to_dda(self) -> None:
        self.flags(enable_remotefx=True, group="hyperv")
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec={"os:resolution": "1920x1200"})
        server = self.boot(flavor=flavor, expected_state="ERROR")
        self.assertIn("os:resolution = '1920x1200'", self.fault(server))
        self.assertIn("PCI passthrough", self.fault(server))


class PciPassthroughTest(HyperVTestCase):
    DEVICES = (AssignableDevice("10DE", "1EB8", "PCIROOT(0)#PCI(0300)#PCI(0000)"),
               AssignableDevice("10DE", "1EB8", "PCIROOT(0)#PCI(0301)#PCI(0000)"))

    def setUp(self) -> None:
        spec = {"vendor_id": "10de", "product_id": "1eb8"}
        self.flags(device_spec=[jsonutils.dumps(spec)],
                   alias=[jsonutils.dumps({**spec, "name": "gpu",
                                           "device_type": "type-PCI"})], group="pci")
        super().setUp()

    def prepare_compute_host(self, host: str) -> None:
        path = self.host_state_file(host)
        if not os.path.exists(path):
            init_host(path, PRESETS["ws2022"].replace(hostname=host,
                                                      assignable_devices=self.DEVICES))
        super().prepare_compute_host(host)

    def test_each_server_gets_a_free_device_until_none_is_left(self) -> None:
        flavor = self._create_flavor(memory_mb=1024, vcpu=1, disk=1, ephemeral=0,
                                     extra_spec={"pci_passthrough:alias": "gpu:1"})
        first = self.vm(self.boot(flavor=flavor))
        second = self.vm(self.boot(flavor=flavor))
        self.assertEqual(
            ["PCIROOT(0)#PCI(0300)#PCI(0000)", "PCIROOT(0)#PCI(0301)#PCI(0000)"],
            sorted(vm["pci_devices"][0]["location_path"] for vm in (first, second)))
        self.assertEqual("TurnOff", self.shutdown_action(first))
        self.assertFalse(first["memory"]["dynamic"])
        # Nova's PCI tracker (fed by get_available_resource) knows the host has no third
        # device: its claim fails before the driver is asked.
        self.boot(flavor=flavor, expected_state="ERROR")
        self.assertEqual(2, len(self.vms()))

    def shutdown_action(self, vm: dict) -> str:
        from hyperv_emulator import open_host

        with open_host(self.host_state_file("compute1")).session() as session:
            [vssd] = session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                                   f"InstanceID = 'Microsoft:{vm['id']}'")
            return {2: "TurnOff", 3: "Save", 4: "ShutDown"}[vssd["AutomaticShutdownAction"]]
