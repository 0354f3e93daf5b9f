"""Provenance of a run: what produced a piece of evidence, where and when.

Every stored run (``metaanalysis.evidence.tables.RunRow.provenance``) carries the dict of
:func:`collect`:

``config``            the run's configuration (``simulators.engine.RunConfig.as_dict()``)
``mcatlas_version``   the installed mcatlas version (:func:`mcatlas_version`)
``code_version``      what the configuration hash includes (:func:`code_version`)
``packages``          versions of python, numpy, pandas, scipy, pydantic, sqlalchemy, and torch
                      when it is installed. Versions come from ``importlib.metadata`` (the
                      installed distribution's metadata), so torch is never imported just to
                      learn its version.
``git``               ``{"commit": sha, "dirty": bool}`` when the mcatlas source is a git
                      checkout (``git rev-parse HEAD`` in the package's directory; any failure
                      — no git, not a checkout, a timeout — gives ``None``: provenance never
                      fails a run)
``device``            the run's device (``cpu``, ``cuda:0``); for CUDA also the GPU's name when
                      torch is already imported
``seeds``             the list of seed ids
``host``              ``platform.node()`` and ``platform.platform()``
``started``, ``finished``  UTC ISO-8601 timestamps (``2025-01-31T12:00:00.123456+00:00``)
``wall_time``         seconds (``time.perf_counter`` around the run and its profile)

Cheap to import: standard library only.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

#: distributions whose versions are recorded (when installed)
PACKAGES: tuple[str, ...] = ("numpy", "pandas", "scipy", "pydantic", "sqlalchemy", "sqlmodel", "torch")

#: bump when the stored evidence format or its meaning changes without a package version bump
EVIDENCE_FORMAT = 2


def utc_now() -> str:
    """The current time, UTC, ISO 8601 with microseconds and offset."""
    return datetime.now(timezone.utc).isoformat()


@functools.lru_cache(maxsize=1)
def mcatlas_version() -> str:
    """The installed mcatlas version (``0+unknown`` from an uninstalled source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcatlas")
    except PackageNotFoundError:
        return "0+unknown"


def code_version() -> str:
    """What a run's configuration hash includes besides the configuration itself.

    ``mcatlas <version>; evidence <EVIDENCE_FORMAT>; simulators <digest>``, where the digest
    hashes the source of the ``simulators`` package (families, metrics, policies, verdict
    rules). Decision: a change to the code that produces evidence invalidates stored runs by
    itself, while a commit that only touches the README, the atlas or the annotations does not
    (the git commit would invalidate every run on every commit). ``--force`` recomputes anyway,
    and the git commit is still recorded in every run's provenance.
    """
    return f"mcatlas {mcatlas_version()}; evidence {EVIDENCE_FORMAT}; simulators {simulators_digest()}"


@functools.lru_cache(maxsize=1)
def simulators_digest() -> str:
    """A short SHA-256 of every ``.py`` file of the ``simulators`` package (path and content)."""
    import hashlib

    import simulators

    root = Path(simulators.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Python and the installed versions of :data:`PACKAGES` (absent ones are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


@functools.lru_cache(maxsize=1)
def git_state() -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the checkout holding this package, or None."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        if not sha:
            return None
        status = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": dirty}


def device_info(device: str) -> dict[str, Any]:
    """The device, plus the GPU name for CUDA when torch is already imported."""
    info: dict[str, Any] = {"name": device}
    if device.startswith("cuda") and "torch" in sys.modules:
        try:
            torch = sys.modules["torch"]
            index = int(device.split(":", 1)[1]) if ":" in device else 0
            info["gpu"] = torch.cuda.get_device_name(index)
        except Exception:  # noqa: BLE001 - provenance never fails a run
            pass
    return info


def collect(
    config: Mapping[str, Any],
    *,
    started: str,
    finished: str,
    wall_time: float,
) -> dict[str, Any]:
    """The provenance dict of one run (see the module docstring)."""
    return {
        "config": dict(config),
        "mcatlas_version": mcatlas_version(),
        "code_version": code_version(),
        "packages": dict(package_versions()),
        "git": git_state(),
        "device": device_info(str(config.get("device", "cpu"))),
        "seeds": list(config.get("seeds", [])),
        "host": {"node": platform.node(), "platform": platform.platform()},
        "started": started,
        "finished": finished,
        "wall_time": float(wall_time),
    }


#: the keys every provenance dict has (tests check them)
PROVENANCE_KEYS: tuple[str, ...] = (
    "config", "mcatlas_version", "code_version", "packages", "git", "device", "seeds", "host",
    "started", "finished", "wall_time",
)
