"""The production install (README "Deployment": `pip install --require-hashes -r
requirements.lock`) pins every dependency of pyproject.toml to one version allowed by its
range, with the SHA-256 of every file pip may fetch: a dependency added to pyproject.toml
without `make lock` fails here, not on the production machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def locked() -> dict[str, tuple[Version, list[str]]]:
    """Each pinned package: its version and hashes, from requirements.lock."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if (found := PIN.match(line)) is not None:
            current = canonicalize_name(found.group(1))
            assert current not in pins, f"{current} pinned twice"
            pins[current] = (Version(found.group(3)), [])
        elif (hashed := line.strip()).startswith("--hash="):
            assert current, "a hash before any pin"
            pins[current][1].append(hashed.removeprefix("--hash=").rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(
                f"requirements.lock: a line that is neither a pin nor a hash: {line}"
            )
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def test_every_dependency_of_pyproject_is_pinned_within_its_range() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run make lock"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject's {requirement}"
        )


def test_every_extra_a_dependency_asks_for_brings_its_packages() -> None:
    pins = locked()
    # psycopg[binary] and celery[redis]: the extras' own packages are pinned too
    assert "psycopg-binary" in pins and "redis" in pins and "kombu" in pins


def test_every_pin_carries_sha256_hashes() -> None:
    for name, (_, hashes) in locked().items():
        assert hashes, f"{name} has no hash: pip --require-hashes would refuse the lock"
        for digest in hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{name}: {digest}"


def test_the_deployment_section_installs_from_the_lock_with_hashes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install --require-hashes -r requirements.lock" in readme
    assert "pip-audit -r requirements.lock" in readme
