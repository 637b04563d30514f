"""Hyper-V flavor extra specs through nova-api's os-flavor-extra-specs at the latest microversion.

This is what `openstack flavor set --property os:resolution=1920x1200 <flavor>` sends.
"""

from __future__ import annotations

import json

from nova.tests.functional.api import client
from tests.functional.base import NovaServicesTestCase


class FlavorExtraSpecsTest(NovaServicesTestCase):
    COMPUTE_HOSTS = ()  # the API alone decides

    def setUp(self) -> None:
        super().setUp()
        self.flavor = self.api.post_flavor(
            {"flavor": {"name": "remotefx", "ram": 1024, "vcpus": 1, "disk": 10}})

    def _refusal(self, call, *args) -> str:
        with self.assertRaises(client.OpenStackApiException) as caught:
            call(*args)
        self.assertEqual(400, caught.exception.response.status_code)
        return json.loads(caught.exception.response.content)["badRequest"]["message"]

    def test_hyperv_extra_specs_are_accepted_and_stored(self) -> None:
        specs = {"os:resolution": "1920x1200", "os:monitors": "2", "os:vram": "256",
                 "hw:cpu_features": "VMX, sse4.2"}
        self.api.post_extra_spec(self.flavor["id"], {"extra_specs": specs})
        self.assertEqual(specs, self.api.get_extra_specs(self.flavor["id"]))
        # And nova's own os: validator still answers for its key.
        self.api.post_extra_spec(self.flavor["id"],
                                 {"extra_specs": {"os:secure_boot": "required"}})

    def test_a_bad_value_is_refused_when_the_flavor_is_set(self) -> None:
        message = self._refusal(self.api.post_extra_spec, self.flavor["id"],
                                {"extra_specs": {"os:resolution": "1920x1080"}})
        self.assertIn("os:resolution='1920x1080'", message)
        self.assertIn("1024x768, 1280x1024, 1600x1200, 1920x1200, 2560x1600, 3840x2160",
                      message)
        self.assertEqual({}, self.api.get_extra_specs(self.flavor["id"]))

    def test_each_spec_refuses_through_the_update_call_too(self) -> None:
        for name, value, allowed in [
            ("os:monitors", "9", "from 1 to 8"),
            ("os:vram", "100", "64, 128, 256, 512, 1024"),
            ("hw:cpu_features", "vmx;sse", "comma-separated list of CPU feature names"),
        ]:
            message = self._refusal(self.api.put_extra_spec, self.flavor["id"], name,
                                    {name: value})
            self.assertIn(f"{name}={value!r}", message)
            self.assertIn(allowed, message)
        self.assertEqual({}, self.api.get_extra_specs(self.flavor["id"]))

    def test_unknown_keys_of_the_known_namespaces_are_still_refused(self) -> None:
        message = self._refusal(self.api.post_extra_spec, self.flavor["id"],
                                {"extra_specs": {"os:resolutoin": "1920x1200"}})
        self.assertIn("os:resolutoin", message)
