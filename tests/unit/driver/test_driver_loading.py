"""compute_driver names resolve to nova_hyperv.driver.HyperVDriver through nova's loader."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from nova.virt import driver as nova_driver

from nova_hyperv import conf as hyperv_conf
from nova_hyperv.driver import HyperVDriver

ROOT = Path(__file__).resolve().parents[3]
NAMES = ["hyperv.HyperVDriver", "compute_hyperv.driver.HyperVDriver",
         "nova_hyperv.driver.HyperVDriver"]


@pytest.fixture
def host_uri() -> Iterator[None]:
    yield
    hyperv_conf.CONF.clear_override("host_uri", group="hyperv")


@pytest.mark.parametrize("name", NAMES)
def test_nova_loads_the_driver_by_name(name: str) -> None:
    loaded = nova_driver.load_compute_driver(None, name)
    # The very class, not a second copy imported under another module name.
    assert type(loaded) is HyperVDriver


def test_the_aliases_are_the_same_objects() -> None:
    import nova.virt.compute_hyperv.driver
    import nova.virt.hyperv
    import nova.virt.nova_hyperv.driver

    assert nova.virt.hyperv.HyperVDriver is HyperVDriver
    assert nova.virt.compute_hyperv.driver.HyperVDriver is HyperVDriver
    assert nova.virt.nova_hyperv.driver.HyperVDriver is HyperVDriver


def test_the_driver_reads_host_uri_when_created(host_uri: None, tmp_path: Path) -> None:
    hyperv_conf.CONF.set_override("host_uri", f"emulated://{tmp_path}/h.db", group="hyperv")
    loaded = nova_driver.load_compute_driver(None, "hyperv.HyperVDriver")
    assert loaded.host_uri == hyperv_conf.HostUri(scheme="emulated", path=f"{tmp_path}/h.db")


def test_each_driver_keeps_the_instances_path_it_was_created_with(tmp_path: Path) -> None:
    # Several computes in one process (the local cloud) each have their own folder.
    conf = hyperv_conf.CONF
    try:
        conf.set_override("instances_path", str(tmp_path / "one"))
        first = nova_driver.load_compute_driver(None, "hyperv.HyperVDriver")
        conf.set_override("instances_path", str(tmp_path / "two"))
        second = nova_driver.load_compute_driver(None, "hyperv.HyperVDriver")
    finally:
        conf.clear_override("instances_path")
    assert first._host.instances_path == str(tmp_path / "one")
    assert second._host.instances_path == str(tmp_path / "two")
    assert first._vmops.images.base_dir == str(tmp_path / "one" / "_base")


def test_a_bad_host_uri_stops_loading_with_its_own_message(host_uri: None) -> None:
    # Not nova's "not of type ComputeDriver" + sys.exit(1), which a ValueError would give.
    hyperv_conf.CONF.set_override("host_uri", "wmi://hv-02", group="hyperv")
    with pytest.raises(hyperv_conf.InvalidHostUri, match="only the local host"):
        nova_driver.load_compute_driver(None, "hyperv.HyperVDriver")


def _run(cmd: list[str], **kwargs: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


LOAD_ALL = """
import sys
from nova import monkey_patch
monkey_patch.patch()
from nova.virt import driver
import nova_hyperv.driver
for name in sys.argv[1:]:
    loaded = driver.load_compute_driver(None, name)
    assert type(loaded) is nova_hyperv.driver.HyperVDriver, (name, type(loaded))
print(nova_hyperv.driver.__file__)
"""


@pytest.mark.slow
def test_a_built_wheel_installed_beside_nova_loads_by_every_name(tmp_path: Path) -> None:
    """The operator's path: `pip install nova-hyperv` into nova-compute's venv.

    The scratch venv gets this venv's packages as hard links (a real nova 34 install,
    in ~1 s instead of a minute of pip), minus our editable install, then the wheel is
    installed by pip into the same site-packages as nova.
    """
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests",
        "bench", ".hypothesis"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
          str(source)])
    [wheel] = wheels.glob("nova_hyperv-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = Path(_run([str(venv / "bin" / "python"), "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    for entry in ours.iterdir():
        if entry.name.startswith(("__editable__", "nova_hyperv")):
            continue
        _run(["cp", "-al", str(entry), str(theirs)])
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)])

    env = {**os.environ, "OS_NOVA_DISABLE_EVENTLET_PATCHING": "1"}
    where = _run([python, "-c", LOAD_ALL, *NAMES], env=env, cwd=tmp_path)
    assert where.strip() == str(theirs / "nova_hyperv" / "driver.py")

    # Uninstalling takes the aliases away and leaves nova whole.
    _run([python, "-m", "pip", "uninstall", "-q", "-y", "nova-hyperv"])
    assert not (theirs / "nova" / "virt" / "hyperv").exists()
    _run([python, "-c", "import nova.virt.driver, nova.virt.fake"], env=env, cwd=tmp_path)
