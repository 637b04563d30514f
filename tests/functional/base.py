"""The base of functional tests: Nova's real API, conductor, scheduler and compute managers.

Everything runs in-process on nova 34's own functional test base (`_IntegratedTestBase`):
the API through wsgi-intercept (`self.api`, admin, latest microversion), conductor,
scheduler and one nova-compute per host in `COMPUTE_HOSTS`, with nova's in-process
placement, glance, neutron and cinder fixtures, in-memory databases and fake RPC.

Which driver and which host: `COMPUTE_DRIVER` names the driver as nova.conf's
`compute_driver` does, and `prepare_compute_host(host)` runs before nova-compute starts
on each host. Tests of our driver set `COMPUTE_DRIVER = "hyperv.HyperVDriver"` and
override the hook to create an emulated Hyper-V host and point `[hyperv] host_uri` at it.
"""

from __future__ import annotations

import os
import sysconfig
from typing import Any

import fixtures
from nova.tests.functional import integrated_helpers

# pip installs nova's api-paste.ini as data (<venv>/etc/nova), not under state_path,
# where nova's ConfFixture looks for it.
API_PASTE_INI = os.path.join(sysconfig.get_path("data"), "etc", "nova", "api-paste.ini")


class NovaServicesTestCase(integrated_helpers._IntegratedTestBase):
    """Nova's control plane and computes, in-process, with a driver chosen per class."""

    ADMIN_API = True
    microversion = "latest"
    # External (file) locks work, in a temporary lock_path: drivers take them (the image
    # cache locks each image).
    REQUIRES_LOCKING = True

    #: The driver every compute loads, named as `compute_driver` names it (nova 34 looks
    #: it up under nova.virt): "fake.MediumFakeDriver", "hyperv.HyperVDriver", ...
    COMPUTE_DRIVER = "fake.MediumFakeDriver"
    #: The hosts that get a nova-compute in setUp; `self.compute` is the first one's.
    COMPUTE_HOSTS: tuple[str, ...] = ("compute1",)

    def prepare_compute_host(self, host: str) -> None:
        """Hook: make the hypervisor `host` exist and point the driver at it.

        Runs right before nova-compute (re)starts on `host`, so flags set here (with
        `self.flags`) are what that compute's driver sees when it is created. It runs
        again on `restart_compute_service`, so it must reuse a host it made before. The
        fake driver needs nothing. For HyperVDriver: create (or reuse) an emulated host
        under `self.state_path` and `self.flags(host_uri=..., group="hyperv")`.
        """

    def start_compute(self, host: str) -> Any:
        """Start nova-compute on `host` with `COMPUTE_DRIVER` (the hook runs first)."""
        self.prepare_compute_host(host)
        self.flags(compute_driver=self.COMPUTE_DRIVER)
        return self._start_compute(host)

    def restart_compute_service(self, compute: Any, keep_hypervisor_state: bool = True) -> Any:
        self.prepare_compute_host(compute.host)
        self.flags(compute_driver=self.COMPUTE_DRIVER)
        return super().restart_compute_service(compute, keep_hypervisor_state)

    def _setup_services(self) -> None:
        # Nothing a driver writes (instances_path, image cache, emulated hosts) may land
        # in site-packages, nova's default state_path.
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=self.state_path)
        self.flags(api_paste_config=API_PASTE_INI, group="wsgi")
        super()._setup_services()

    def _setup_compute_service(self) -> Any:
        started = [self.start_compute(host) for host in self.COMPUTE_HOSTS]
        return started[0] if started else None
