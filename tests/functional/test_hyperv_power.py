"""Power actions through Nova's API, the host's view of them, and a compute restart."""

from __future__ import annotations

import nova.virt.node
from nova.compute import power_state
from tests.functional.hyperv_base import HyperVTestCase


class PowerTest(HyperVTestCase):
    def test_stop_start_reboot_pause_suspend(self) -> None:
        server = self.boot()
        self.assertEqual("Running", self.vm(server)["state"])

        server = self._stop_server(server)
        self.assertEqual("Off", self.vm(server)["state"])
        self.assertEqual(power_state.SHUTDOWN, server["OS-EXT-STS:power_state"])
        server = self._start_server(server)
        self.assertEqual("Running", self.vm(server)["state"])

        self._reboot_server(server)  # soft: the guest shuts down, the VM starts again
        self.assertEqual("Running", self.vm(server)["state"])
        self._reboot_server(server, hard=True)
        self.assertEqual("Running", self.vm(server)["state"])

        server = self.act(server, "pause", "PAUSED")
        self.assertEqual("Paused", self.vm(server)["state"])
        server = self.act(server, "unpause", "ACTIVE")
        self.assertEqual("Running", self.vm(server)["state"])

        server = self.act(server, "suspend", "SUSPENDED")
        self.assertEqual("Saved", self.vm(server)["state"])
        self.assertEqual(power_state.SUSPENDED, server["OS-EXT-STS:power_state"])
        server = self.act(server, "resume", "ACTIVE")
        self.assertEqual("Running", self.vm(server)["state"])

        self._delete_server(server)
        self.assertEqual([], self.vms())

    def test_hypervisor_as_nova_sees_it(self) -> None:
        [hypervisor] = self.api.api_get("/os-hypervisors/detail").body["hypervisors"]
        self.assertEqual(("hyperv", 10000, "compute1"), (
            hypervisor["hypervisor_type"], hypervisor["hypervisor_version"],
            hypervisor["hypervisor_hostname"]))
        self.assertIn(" up ", hypervisor.get("uptime") or self.api.api_get(
            f"/os-hypervisors/{hypervisor['id']}").body["hypervisor"]["uptime"])


    def act(self, server: dict, action: str, status: str) -> dict:
        self.api.post_server_action(server["id"], {action: None})
        return self._wait_for_state_change(server, status)


class PowerStateSyncTest(HyperVTestCase):
    # The sync runs here in the test's thread; nova's stop must then be a real cast (a
    # call would wait for the lock the sync holds on the instance).
    CAST_AS_CALL = False

    def test_sync_sees_a_vm_turned_off_behind_novas_back(self) -> None:
        from nova import context
        from nova.objects import instance as instance_obj

        server = self.boot()
        driver = self.compute.manager.driver
        admin = context.get_admin_context()
        instance = instance_obj.Instance.get_by_uuid(admin, server["id"])
        from nova_hyperv.hyperv import RequestedState

        driver._vmops.set_state(instance, RequestedState.TURN_OFF)
        self.compute.manager._sync_power_states(admin)
        server = self._wait_for_state_change(server, "SHUTOFF")
        self.assertEqual("Off", self.vm(server)["state"])


class RestartTest(HyperVTestCase):
    STUB_COMPUTE_ID = False  # nova's own node identity file, as in production

    def setUp(self) -> None:
        # A uuid cached by an earlier test in this process would skip writing the file.
        nova.virt.node.LOCAL_NODE_UUID = None
        self.addCleanup(setattr, nova.virt.node, "LOCAL_NODE_UUID", None)
        super().setUp()

    def test_restarted_compute_comes_back_with_its_servers(self) -> None:
        server = self.boot()
        node_uuid = nova.virt.node.get_local_node_uuid()
        nova.virt.node.LOCAL_NODE_UUID = None  # read it back from $state_path/compute_id
        self.restart_compute_service(self.compute)
        self.assertEqual(node_uuid, nova.virt.node.get_local_node_uuid())
        [hypervisor] = self.api.api_get("/os-hypervisors").body["hypervisors"]
        self.assertEqual(("compute1", "up"), (hypervisor["hypervisor_hostname"],
                                              hypervisor["state"]))
        self.assertEqual("ACTIVE", self._show_server(server)["status"])
        self.assertEqual("Running", self.vm(server)["state"])
        self._stop_server(server)
        self._delete_server(server)
        self.assertEqual([], self.vms())
