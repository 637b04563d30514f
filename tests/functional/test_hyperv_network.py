"""Ports through Nova's API: hot attach / detach rules, VLANs, port security, VIF types."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

from nova import context
from nova.api.metadata import base as metadata
from nova.objects import instance as instance_obj
from nova.tests.functional.api import client as api_client
from tests.functional.hyperv_base import HyperVTestCase

GEN2 = {"hw_machine_type": "hyperv-gen2"}


class PortsTestCase(HyperVTestCase):
    def port(self, **changes: Any) -> dict[str, Any]:
        """A new Neutron port (the fixture's template, then `changes`)."""
        port = self.neutron.create_port({"port": {}})["port"]
        self.neutron._ports[port["id"]].update(changes)
        return self.neutron._ports[port["id"]]

    def nics(self, server: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {n["name"]: (n["mac"], n["switch"], n["vlan"], n["mac_spoofing"])
                for n in self.vm(server)["nics"]}

    def action_events(self, server: dict[str, Any], action: str) -> dict[str, Any]:
        [found] = [a for a in self.api.get_instance_actions(server["id"])
                   if a["action"] == action]
        events = self.api.get_instance_action_details(server["id"],
                                                      found["request_id"])["events"]
        return {e["event"]: e for e in events}

    def devices(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        """`devices` of meta_data.json as the metadata API serves it."""
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(
            admin, server["id"], expected_attrs=["device_metadata", "system_metadata",
                                                 "metadata", "flavor", "info_cache"])
        with mock.patch("nova.network.neutron.API.get_fixed_ip_by_address", return_value={}):
            return json.loads(metadata.InstanceMetadata(instance).lookup(
                "/openstack/latest/meta_data.json"))["devices"]


class HotPlugTest(PortsTestCase):
    def test_running_generation_1_refuses_with_the_reason(self) -> None:
        first = self.port()
        server = self.boot(self.create_image("gen1-vhdx"), networks=[{"port": first["id"]}])
        port = self.port()
        with self.assertRaises(api_client.OpenStackApiException) as raised:
            self.api.attach_interface(server["id"],
                                      {"interfaceAttachment": {"port_id": port["id"]}})
        # Nova's compute manager answers with its own InterfaceAttachFailed (the API's
        # 500, without a reason); the driver's reason is in the instance action.
        self.assertEqual(500, raised.exception.response.status_code)
        self.assertIn("Failed to attach network adapter device", str(raised.exception))
        event = self.action_events(server, "attach_interface")["hyperv_attach_interface"]
        self.assertEqual("Error", event["result"])
        self.assertIn("generation 2", event["details"])
        self.assertIn("nic-hot-plug-requires-gen2", event["details"])
        self.assertEqual([first["id"]], list(self.nics(server)))
        self.assertEqual("", self.neutron.show_port(port["id"])["port"]["device_id"])
        # Detaching is refused the same way. (Nova casts it: in production the API has
        # answered 202 before; nova's test RPC runs casts as calls, so the error shows.)
        with self.assertRaises(api_client.OpenStackApiException):
            self.api.detach_interface(server["id"], first["id"])
        event = self.action_events(server, "detach_interface")["hyperv_detach_interface"]
        self.assertIn("nic-hot-plug-requires-gen2", event["details"])
        self.assertEqual([first["id"]], list(self.nics(server)))

    def test_running_generation_2_hot_plugs_tagged_and_detaches(self) -> None:
        server = self.boot(self.create_image("gen2", **GEN2))
        port = self.port()
        self.api.attach_interface(server["id"], {"interfaceAttachment": {
            "port_id": port["id"], "tag": "hot"}})
        self.notifier.wait_for_versioned_notifications("instance.interface_attach.end")
        mac = port["mac_address"]
        self.assertEqual({port["id"]: (mac.replace(":", "").upper(), "external", None, False)},
                         self.nics(server))
        self.assertEqual("Running", self.vm(server)["state"])
        self.assertEqual([{"type": "nic", "bus": "pci", "address": "none", "mac": mac,
                           "tags": ["hot"], "vf_trusted": False}], self.devices(server))
        self._detach_interface(server, port["id"])
        self.assertEqual({}, self.nics(server))
        self.assertEqual([], self.devices(server))

    def test_stopped_generation_1_takes_a_nic_and_starts_with_it(self) -> None:
        server = self.boot(self.create_image("gen1-vhdx"))
        server = self._stop_server(server)
        port = self.port()
        self._attach_interface(server, port["id"])
        self.assertEqual([port["id"]], list(self.nics(server)))
        server = self._start_server(server)
        self.assertEqual("Running", self.vm(server)["state"])
        self._stop_server(server)
        self._detach_interface(server, port["id"])
        self.assertEqual({}, self.nics(server))


class PortSettingsTest(PortsTestCase):
    def test_vlan_and_disabled_port_security_reach_the_switch_port(self) -> None:
        plain = self.port()
        tagged = self.port(**{"binding:vif_details": {"vlan": 100},
                              "port_security_enabled": False})
        server = self.boot(networks=[{"port": plain["id"]}, {"port": tagged["id"]}])
        nics = self.nics(server)
        self.assertEqual(("external", None, False), nics[plain["id"]][1:])
        self.assertEqual(("external", 100, True), nics[tagged["id"]][1:])
        # Neutron changes: nova-compute's restart plugs the ports again (plug_vifs).
        self.neutron._ports[tagged["id"]].update({"port_security_enabled": True,
                                                  "binding:vif_details": {"vlan": 200}})
        for binding in self.neutron._port_bindings[tagged["id"]].values():
            binding["vif_details"] = {"vlan": 200}
        self.neutron._ports[plain["id"]]["port_security_enabled"] = False
        from nova.network import neutron

        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(admin, server["id"])
        neutron.API().get_instance_nw_info(admin, instance)  # refresh nova's cache
        self.compute = self.restart_compute_service(self.compute)
        nics = self.nics(server)
        self.assertEqual(("external", None, True), nics[plain["id"]][1:])
        self.assertEqual(("external", 200, False), nics[tagged["id"]][1:])

    def test_a_vif_type_the_driver_cannot_connect_is_a_fault(self) -> None:
        port = self.port(**{"binding:vif_type": "vhostuser"})
        server = self.boot(networks=[{"port": port["id"]}], expected_state="ERROR")
        self.assertIn("VIF type 'vhostuser'", self.fault(server))
        self.assertIn("only hyperv and ovs", self.fault(server))
        self.assertEqual([], self.vms())
