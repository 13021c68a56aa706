"""Every third-party package the code imports is declared, pinned, in requirements*.in.

A package that is only there because another one pulls it in (django-timezone-field came with
django-celery-beat) disappears, or changes major version, the day that other package changes
its mind. The app's code must be covered by requirements.in; tests and benchmarks may also
use requirements-dev.in.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"node_modules", "var", "test-artifacts", "__pycache__"}
DEV_ROOTS = ("tests", "bench")
# Test machinery inside the app package: loaded by pytest only (pyproject's addopts).
DEV_MODULES = {"cryptovault/pytest_plugin.py"}
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==\s*([^\s;#]+))?")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def python_files() -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(BASE_DIR):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".") and d not in SKIPPED_DIRS]
        for name in files:
            if name.endswith(".py"):
                yield Path(directory, name)


def local_top_level_names() -> set[str]:
    names = {path.stem for path in BASE_DIR.glob("*.py")}
    names |= {path.parent.name for path in BASE_DIR.glob("*/__init__.py")}
    return names


def imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def requirements(filename: str) -> dict[str, str | None]:
    """Declared distributions of a requirements*.in file: normalised name -> pinned version (or None)."""
    declared = {}
    for line in (BASE_DIR / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = REQUIREMENT.match(line)
        assert match, f"{filename}: cannot read {line!r}"
        declared[normalise(match.group(1))] = match.group(4)
    return declared


def pins(filename: str) -> dict[str, str]:
    """Exact pins of a requirements*.txt file."""
    return {
        normalise(name): version
        for name, version in re.findall(
            r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", (BASE_DIR / filename).read_text(), re.M
        )
    }


def undeclared_imports() -> dict[str, set[str]]:
    """Distribution (or unknown module) -> the files importing it without a declaration."""
    runtime = set(requirements("requirements.in"))
    development = runtime | set(requirements("requirements-dev.in"))
    ignored = set(sys.stdlib_module_names) | {"__future__"} | local_top_level_names()
    distributions = packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in python_files():
        relative = path.relative_to(BASE_DIR).as_posix()
        is_dev = relative.startswith(tuple(f"{root}/" for root in DEV_ROOTS)) or relative in DEV_MODULES
        allowed = development if is_dev else runtime
        for module in imported_top_level_names(path) - ignored:
            candidates = {normalise(name) for name in distributions.get(module, [])}
            if not candidates & allowed:
                label = ", ".join(sorted(candidates)) or f"{module} (not installed)"
                missing.setdefault(label, set()).add(relative)
    return missing


def test_every_imported_package_is_declared_in_the_requirements():
    missing = undeclared_imports()
    assert missing == {}, "\n".join(
        f"{distribution}: imported by {', '.join(sorted(files))}" for distribution, files in sorted(missing.items())
    )


def test_every_declared_package_is_pinned_to_the_version_installed_by_the_lock_file():
    for source, lock in (("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")):
        locked = pins(lock) | pins("requirements.txt")
        for name, version in requirements(source).items():
            assert version, f"{source}: {name} has no exact version (name==version)"
            assert locked.get(name) == version, f"{source} pins {name}=={version}, {lock} has {locked.get(name)}"
