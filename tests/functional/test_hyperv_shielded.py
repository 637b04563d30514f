"""Shielded VMs and vTPMs through Nova's API: the shielding data from Barbican (faked at
its HTTP edge with requests-mock), provisioning on a guarded emulated host (the preset with
guarded on), and the refusals (issue 7's vTPM part)."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from typing import Any, ClassVar

import fixtures
import nova.conf
import requests_mock
from nova.api import auth
from nova.tests.functional.api import client
from tests.functional.hyperv_base import HyperVTestCase

from hyperv_emulator import shielding_data
from nova_hyperv.ops.shielding import register_barbican_opts

BARBICAN = "http://barbican.test:9311"
TOKEN = "the-users-token"
SHIELDED = {"hw_machine_type": "hyperv-gen2", "os_secure_boot": "required",
            "os_type": "windows", "os_shielded_vm": "required"}
register_barbican_opts(nova.conf.CONF)


class FakeBarbican:
    """Barbican's v1 API for containers of secrets (only what the driver reads)."""

    def __init__(self, mocker: requests_mock.Mocker) -> None:
        self.mocker = mocker
        # Unknown containers and secrets: 404 (other hosts' requests pass through to
        # their wsgi-intercept apps: the mocker is real_http).
        mocker.get(re.compile(f"^{re.escape(BARBICAN)}/v1/"), status_code=404,
                   json={"code": 404, "title": "Not Found"})
        mocker.get(BARBICAN, json={"versions": {"values": [{
            "id": "v1", "status": "CURRENT", "min_version": "1.0", "max_version": "1.1",
            "links": [{"rel": "self", "href": f"{BARBICAN}/v1/"}]}]}})

    def tokens(self) -> set[str | None]:
        return {r.headers.get("X-Auth-Token") for r in self.mocker.request_history
                if r.url.startswith(BARBICAN)}

    def container(self, *parts: bytes) -> str:
        container_id = str(uuid.uuid4())
        refs = []
        for number, part in enumerate(parts, 1):
            secret = f"{BARBICAN}/v1/secrets/{uuid.uuid4()}"
            refs.append({"name": str(number), "secret_ref": secret})
            self.mocker.get(secret, json={
                "secret_ref": secret, "name": f"pdk part {number}", "status": "ACTIVE",
                "secret_type": "opaque", "content_types": {"default": "application/octet-stream"},
                "created": "2026-01-01T00:00:00", "updated": "2026-01-01T00:00:00"})
            self.mocker.get(f"{secret}/payload", content=part,
                            headers={"Content-Type": "application/octet-stream"})
        self.mocker.get(f"{BARBICAN}/v1/containers/{container_id}", json={
            "container_ref": f"{BARBICAN}/v1/containers/{container_id}", "name": "pdk",
            "type": "generic", "status": "ACTIVE", "secret_refs": refs, "consumers": [],
            "created": "2026-01-01T00:00:00", "updated": "2026-01-01T00:00:00"})
        return container_id


def pdk_bytes(**kwargs: Any) -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "data.pdk")
        shielding_data.write_pdk(path, **kwargs)
        with open(path, "rb") as stream:
            return stream.read()


class BarbicanTestCase(HyperVTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.flags(barbican_endpoint=BARBICAN, group="barbican")
        mocker = requests_mock.Mocker(real_http=True)
        mocker.start()
        self.addCleanup(mocker.stop)
        self.barbican = FakeBarbican(mocker)
        # The user's token, as keystone's middleware would put it in the request context
        # (nova's functional API stubs keystone and builds contexts without one).
        make_context = auth.NovaKeystoneContext._create_context

        def context_with_token(env: dict[str, Any], **kwargs: Any) -> Any:
            found = make_context(env, **kwargs)
            found.auth_token = env.get("HTTP_X_AUTH_TOKEN")
            return found

        self.useFixture(fixtures.MonkeyPatch(
            "nova.api.auth.NovaKeystoneContext._create_context", context_with_token))
        send = self.api.request

        def with_token(url: str, method: str = "GET", body: Any = None,
                       headers: dict[str, str] | None = None) -> Any:
            return send(url, method, body, {**(headers or {}), "X-Auth-Token": TOKEN})

        self.api.request = with_token

    def shielded_image(self, **properties: str) -> str:
        return self.create_image("gen2", **{**SHIELDED, **properties})


class GuardedHostTest(BarbicanTestCase):
    PROFILE_CHANGES: ClassVar[dict[str, Any]] = {"guarded": True}

    def boot_with(self, image: str, metadata: dict[str, str] | None = None,
                  expected_state: str = "ACTIVE") -> dict[str, Any]:
        body = self._build_server(image_uuid=image, flavor_id=self.flavor_id,
                                  networks="none")
        body["metadata"] = metadata or {}
        server = self.api.post_server({"server": body})
        return self._wait_for_state_change(server, expected_state)

    def test_a_shielded_vm_is_provisioned_from_barbican_shielding_data(self) -> None:
        data = pdk_bytes(name="tenant", fsk_keys=["@@ComputerName@@", "@@TimeZone@@"])
        half = len(data) // 2
        container = self.barbican.container(data[:half], data[half:])  # a PDK in two parts
        server = self.boot_with(self.shielded_image(img_pdk_reference=container),
                                {"fsk:TimeZone": "UTC"})
        vm = self.vm(server)
        self.assertEqual({"tpm": True, "shielded": True, "encrypted_state": True,
                          "key_protector": True, "provisioned": True}, vm["security"])
        self.assertEqual("Running", vm["state"])
        self.assertEqual(["root.vhdx"], sorted(os.listdir(self.instance_dir(server))))
        self.assertEqual({TOKEN}, self.barbican.tokens())  # read as the user
        # Its console stays shut: ConsoleNotAvailable, which nova answers with 404.
        error = self.assertRaises(client.OpenStackApiException, self.api.post_server_action,
                                  server["id"], {"os-getConsoleOutput": {}})
        self.assertEqual(404, error.response.status_code)
        self.assertIn("shielded", error.response.text)
        driver = self.compute.manager.driver
        self.assertTrue(driver._host.client.is_shielded(
            driver._host.client.find_vm(vm["name"])))

    def test_instance_metadata_names_the_pdk_before_the_image(self) -> None:
        mine = self.barbican.container(pdk_bytes(policy="EncryptionSupported"))
        image = self.create_image("gen2", **{**SHIELDED, "os_shielded_vm": "disabled",
                                             "os_vtpm": "required",
                                             "img_pdk_reference": str(uuid.uuid4())})
        server = self.boot_with(image, {"img_pdk_reference": mine})
        vm = self.vm(server)
        self.assertEqual((True, False), (vm["security"]["tpm"], vm["security"]["shielded"]))
        driver = self.compute.manager.driver
        self.assertFalse(driver._host.client.is_shielded(
            driver._host.client.find_vm(vm["name"])))

    def test_round_trips_a_vtpm_adds_to_a_spawn(self) -> None:
        counters = self.compute.manager.driver._host.client.session.counters

        def spawn_cost(image: str, metadata: dict[str, str] | None = None) -> int:
            before = counters.snapshot().get("spawn", {}).get("total", 0)
            self.boot_with(image, metadata)
            return counters.snapshot()["spawn"]["total"] - before

        plain = dict(SHIELDED, os_shielded_vm="disabled")
        self.boot_with(self.create_image("gen2", **plain))  # the vSwitch etc. read once
        baseline = spawn_cost(self.create_image("gen2", **plain))
        container = self.barbican.container(pdk_bytes(fsk_keys=["@@ComputerName@@"]))
        first = spawn_cost(self.shielded_image(img_pdk_reference=container))
        second = spawn_cost(self.shielded_image(img_pdk_reference=container))
        # PopulateFromFile, the security setting, SetKeyProtector, SetSecurityPolicy,
        # ModifySecuritySettings, SerializeToFile, ProvisionMachine; the security
        # service is found once per driver process
        self.assertEqual((8, 7), (first - baseline, second - baseline))

    def _refused(self, image: str, metadata: dict[str, str] | None = None) -> str:
        server = self.boot_with(image, metadata, expected_state="ERROR")
        self.assertEqual([], self.vms())
        self.assertFalse(os.path.exists(self.instance_dir(server)))
        return self.fault(server)

    def test_an_unknown_barbican_container_is_a_fault_naming_the_reference(self) -> None:
        missing = str(uuid.uuid4())
        fault = self._refused(self.shielded_image(img_pdk_reference=missing))
        self.assertIn(f"img_pdk_reference = '{missing}'", fault)
        self.assertIn("Barbican answered 404", fault)

    def test_missing_fsk_values_are_a_fault_and_nothing_stays(self) -> None:
        container = self.barbican.container(pdk_bytes(fsk_keys=["@@TimeZone@@"]))
        fault = self._refused(self.shielded_image(img_pdk_reference=container))
        self.assertIn("the host refused this shielding data", fault)

    def test_without_secure_boot_it_is_refused(self) -> None:
        fault = self._refused(self.shielded_image(os_secure_boot="disabled",
                                                  img_pdk_reference=str(uuid.uuid4())))
        self.assertIn("image property os_shielded_vm = 'required': allowed with Secure Boot",
                      fault)

    def test_without_a_pdk_reference_it_is_refused(self) -> None:
        fault = self._refused(self.shielded_image())
        self.assertIn("img_pdk_reference = (not set)", fault)


class UnguardedHostTest(BarbicanTestCase):
    def test_a_shielded_vm_is_refused_on_a_host_that_is_not_guarded(self) -> None:
        image = self.shielded_image(img_pdk_reference=str(uuid.uuid4()))
        server = self.boot(image, expected_state="ERROR")
        fault = self.fault(server)
        self.assertIn("os_shielded_vm = 'required': allowed guarded hosts only", fault)
        self.assertEqual([], self.vms())
