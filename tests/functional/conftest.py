"""pytest set-up for tests that run Nova's services in-process (nova's functional base).

These tests need their own pytest process (scripts/test runs tests/functional
separately): nova-compute runs in native threading mode, as in production, and that mode
forbids eventlet, which other parts of the suite import (os-win, under tests/peer).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Test modules import their base as tests.functional.base, whichever way pytest was started.
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

# Threading mode, as nova 34's nova-compute, conductor, scheduler and API use by default.
# Set OS_NOVA_DISABLE_EVENTLET_PATCHING=0 to run the same tests under eventlet.
os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

if "eventlet" in sys.modules and os.environ["OS_NOVA_DISABLE_EVENTLET_PATCHING"] in (
    "1", "true", "yes"
):
    raise pytest.UsageError(
        "tests/functional must run in its own pytest process: eventlet is already imported "
        "(by tests outside tests/functional), and nova's threading mode forbids it. "
        "Run `scripts/test` or `pytest tests/functional`."
    )

# Before anything imports futurist (which imports eventlet when installed): in threading
# mode this installs nova's eventlet import guard; in eventlet mode it monkey patches.
from nova import monkey_patch  # noqa: E402

monkey_patch.patch()

import nova.test  # noqa: E402

_clear_attrs = nova.test.TestCase._clear_attrs


def _clear_attrs_but_the_test_method(self: nova.test.TestCase) -> None:
    # nova's cleanup deletes every public instance attribute to free memory; pytest sets
    # the running test method as one and deletes it itself afterwards (AttributeError).
    method = self.__dict__.get(self._testMethodName)
    _clear_attrs(self)
    if method is not None:
        self.__dict__[self._testMethodName] = method


nova.test.TestCase._clear_attrs = _clear_attrs_but_the_test_method



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    strangers = [item.nodeid for item in items if HERE not in Path(item.path).parents]
    if strangers:
        raise pytest.UsageError(
            "tests/functional must run in its own pytest process (nova's threading mode "
            f"forbids the eventlet other tests import), but {len(strangers)} other tests "
            f"were collected with it, e.g. {strangers[0]}. Run `scripts/test`."
        )
