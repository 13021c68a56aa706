"""The docs say what the code does, and each fact has one place.

ARCHITECTURE.md lists the apps, the middlewares in order, the API's authentication classes, the
rate-limit groups and the beat entries; .env.example lists every environment variable the
settings read; the README keeps to the quick start, configuration and pointers. A change to the
code that the docs do not follow fails here, naming what drifted, so the docs are fixed in the
same change. Text parsing only: nothing starts, nothing touches the database.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings

from cryptovault.beat import BEAT_SCHEDULE

ROOT = Path(settings.BASE_DIR)
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_SOURCE = ROOT / "cryptovault" / "settings.py"
DOCS = [README, ARCHITECTURE, *sorted((ROOT / "docs").glob("*.md"))]

# What the README keeps (issue 8): the quick start, configuration and pointers; the rest lives once
# in ARCHITECTURE.md or docs/.
README_SECTIONS = ["Quick start", "Configuration", "More"]
LAST_ARCHITECTURE_SECTION = "How to add a domain app"
LOCAL_PACKAGES = ("cryptovault", "accounts", "security", "exchanges", "trading", "analytics", "backups", "tests")
EMPTY_APP_FILES = {"__init__.py", "apps.py", "migrations", "__pycache__"}

CODE_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text without fenced code blocks, whose `# comments` would look like headings."""
    return CODE_BLOCK.sub("", text)


def headings(text: str, level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+?)\s*$", prose(text), re.M)


def section(path: Path, heading: str) -> str:
    """What stands under `heading` (any level) until the next heading."""
    text = prose(text_of(path))
    match = re.search(rf"^#+ {re.escape(heading)}\s*$", text, re.M)
    assert match, f"{path.name} has no section {heading!r}"
    rest = text[match.end() :]
    end = re.search(r"^#+ ", rest, re.M)
    return rest[: end.start()] if end else rest


def numbered_names(body: str) -> list[str]:
    """`1. \\`dotted.Name\\` ...` items, in order."""
    return re.findall(r"^\d+\. `([\w.]+)`", body, re.M)


def table_rows(body: str) -> dict[str, list[str]]:
    """A markdown table's rows by their first cell's `code`, each as its cells (code marks dropped)."""
    rows: dict[str, list[str]] = {}
    for line in body.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([^`]+)`", cells[0]) if line.lstrip().startswith("|") else None
        if match:
            rows[match[1]] = [cell.strip("`") for cell in cells]
    return rows


def settings_calls() -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(text_of(SETTINGS_SOURCE))) if isinstance(node, ast.Call)]


def first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def environment_variables_read_by_settings() -> set[str]:
    """Names passed to `env.<type>(...)` and `os.environ.get(...)` in settings.py."""
    names = set()
    for call in settings_calls():
        func = call.func
        reads_env = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        reads_os = isinstance(func, ast.Attribute) and ast.unparse(func) == "os.environ.get"
        if (reads_env or reads_os) and first_string(call):
            names.add(first_string(call))
    return names


def rate_limit_defaults() -> dict[str, tuple[str, str]]:
    """settings.RATE_LIMITS as written: group -> (variable, default)."""
    tree = ast.parse(text_of(SETTINGS_SOURCE))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "RATE_LIMITS" for t in node.targets):
            assert isinstance(node.value, ast.Dict)
            found = {}
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                assert isinstance(key, ast.Constant) and isinstance(value, ast.Call)
                default = next(kw.value.value for kw in value.keywords if kw.arg == "default")  # type: ignore[attr-defined]
                found[key.value] = (first_string(value), default)
            return found
    raise AssertionError("settings.py assigns no RATE_LIMITS")


# --- ARCHITECTURE.md against the code ---------------------------------------------------------------------
def test_the_middleware_list_is_settings_middleware_in_order_with_its_count():
    body = section(ARCHITECTURE, "An HTTP request")
    assert numbered_names(body) == list(settings.MIDDLEWARE)
    count = re.search(r"in order \((\d+)\)", body)
    assert count and int(count[1]) == len(settings.MIDDLEWARE), "the stated count of middlewares is wrong"


def test_the_api_authentication_list_is_the_default_authentication_classes_in_order():
    listed = numbered_names(section(ARCHITECTURE, "API authentication"))
    assert listed == list(settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"])


def test_every_beat_entry_is_in_the_schedule_table_with_its_task_and_the_count_is_right():
    body = section(ARCHITECTURE, "Periodic work")
    rows = table_rows(body)
    assert set(rows) == set(BEAT_SCHEDULE), "the beat table lists other entries than cryptovault/beat.py"
    for name, entry in BEAT_SCHEDULE.items():
        assert rows[name][1] == entry["task"], f"{name} runs {entry['task']}, the table says {rows[name][1]}"
    count = re.search(r"declares (\d+) entr", body)
    assert count and int(count[1]) == len(BEAT_SCHEDULE), "the stated number of beat entries is wrong"


def local_apps() -> list[str]:
    return [app for app in settings.INSTALLED_APPS if "." not in app and (ROOT / app / "apps.py").is_file()]


def test_every_local_app_is_in_the_apps_table_and_empty_only_when_it_is():
    rows = table_rows(section(ARCHITECTURE, "Apps"))
    assert set(rows) == set(local_apps()), "the apps table and INSTALLED_APPS disagree"
    for app in local_apps():
        empty = {path.name for path in (ROOT / app).iterdir()} <= EMPTY_APP_FILES
        said_empty = rows[app][-1] == "empty app"
        assert said_empty == empty, f"the apps table says {app} is {'' if said_empty else 'not '}empty"


def test_every_rate_limit_group_is_in_the_table_with_its_variable_and_default():
    rows = table_rows(section(ARCHITECTURE, "Rate limits"))
    defaults = rate_limit_defaults()
    assert set(defaults) == set(settings.RATE_LIMITS)
    assert set(rows) == set(settings.RATE_LIMITS), "the rate-limit table lists other groups than settings"
    for group, (variable, default) in defaults.items():
        assert rows[group][1:3] == [variable, default], f"{group}: settings read {variable} with {default}"


def test_the_architecture_ends_with_how_to_add_a_domain_app():
    assert headings(text_of(ARCHITECTURE), 2)[-1] == LAST_ARCHITECTURE_SECTION


# --- configuration: .env.example is the one list ----------------------------------------------------------
def documented_variables() -> set[str]:
    return set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text_of(ENV_EXAMPLE), re.M))


def test_every_environment_variable_the_settings_read_is_in_env_example():
    missing = environment_variables_read_by_settings() - documented_variables()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_documents_no_variable_the_settings_do_not_read():
    unread = documented_variables() - environment_variables_read_by_settings()
    assert not unread, f".env.example documents {sorted(unread)}, which settings.py never reads"


def test_the_readme_points_at_env_example_instead_of_listing_variables():
    configuration = section(README, "Configuration")
    assert ".env.example" in configuration
    assert not table_rows(configuration), "the README repeats variables that .env.example lists"


# --- the README keeps to what it is for -------------------------------------------------------------------
def test_the_readme_gives_the_two_commands_and_make_has_them():
    quick_start = text_of(README).split("## Quick start", 1)[1]
    assert "make run" in quick_start and "make test" in quick_start
    makefile = text_of(ROOT / "Makefile")
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_the_readme_keeps_only_the_quick_start_configuration_and_pointers():
    assert headings(text_of(README), 2) == README_SECTIONS


# --- every doc: links, paths and dotted names that exist --------------------------------------------------
def code_spans(path: Path) -> list[str]:
    return CODE_SPAN.findall(prose(text_of(path)))


def ignored_folders() -> set[str]:
    """Local state and installed packages (.gitignore): a fresh checkout does not have them."""
    return {line.strip().strip("/") for line in text_of(ROOT / ".gitignore").splitlines() if line.endswith("/")}


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_local_link_in_the_docs_leads_to_a_file(doc: Path):
    targets = [link.split("#")[0] for link in LINK.findall(text_of(doc)) if "://" not in link]
    missing = [target for target in targets if target and not (doc.parent / target).exists()]
    assert not missing, f"{doc.name} links to {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_repository_path_the_docs_name_exists(doc: Path):
    folders = {path.name for path in ROOT.iterdir() if path.is_dir()} - ignored_folders()
    paths = [
        span
        for span in code_spans(doc)
        if re.fullmatch(r"\.?[\w-]+(/[\w.-]+)*/?", span) and "/" in span and span.split("/")[0] in folders
    ]
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"{doc.name} names {missing}, which do not exist"


def resolves(dotted: str) -> bool:
    """`package.module.attribute...`: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def celery_task_names() -> set[str]:
    """`backups.verify`: Celery's names of the tasks the worker registers (the beat's among them)."""
    from cryptovault.celery import app

    app.loader.import_default_modules()
    return set(app.tasks.keys())


def permission_names() -> set[str]:
    """`backups.view_backup`: Django's `app_label.codename` of every model's permissions."""
    from django.apps import apps

    names = set()
    for model in apps.get_models():
        meta = model._meta
        names |= {f"{meta.app_label}.{action}_{meta.model_name}" for action in meta.default_permissions}
        names |= {f"{meta.app_label}.{codename}" for codename, _ in meta.permissions}
    return names


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_dotted_name_of_our_code_in_the_docs_exists(doc: Path):
    # Load the project as a running server does first: some modules (allauth's login stages) can
    # only be imported once the URLs have loaded what they build on.
    importlib.import_module(settings.ROOT_URLCONF)
    from accounts.notification_events import NOTIFICATION_EVENTS
    from security.actions import AUDIT_ACTIONS

    # Also names, not modules: audit actions (`security.ip_refused`) and notification events.
    names_not_modules = celery_task_names() | permission_names() | set(AUDIT_ACTIONS) | set(NOTIFICATION_EVENTS)
    # Standing alone: not inside another dotted name, a path or an email address.
    pattern = re.compile(rf"(?<![\w./@-])(?:{'|'.join(LOCAL_PACKAGES)})(?:\.\w+)+")
    names = {match for span in code_spans(doc) for match in pattern.findall(span)} - names_not_modules
    unknown = sorted(name for name in names if not resolves(name))
    assert not unknown, f"{doc.name} names {unknown}, which the code does not have"
