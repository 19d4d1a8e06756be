"""The import graph points the right way.

Built with `ast` from the source of every product module (module-level imports AND
imports inside functions, so a cycle cannot hide in a function body):

- no import cycle among project modules;
- the domain apps (accounts, billing, panels) never import botapp. Their entry points —
  `admin*` and `api*` modules and management commands — are outside this rule: they are
  the console and the REST API, and may call the bot layer to send what a domain action
  decided (the same way a bot handler does);
- no product module imports the test stand-ins (`standins`), except `manage.py demo`,
  whose whole point is to run the product against them;
- a project import inside a function carries a comment saying why (on its line or the
  line above): an import there is an exception, not a way round a cycle.

Tests, migrations, bench/ and standins/ themselves are not product modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "billing", "botapp", "moonvpn", "ops", "panels", "standins")
DOMAIN = ("accounts", "billing", "panels")
DEMO_COMMAND = "botapp.management.commands.demo"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_product(name: str) -> bool:
    parts = name.split(".")
    return (
        parts[0] in APPS
        and parts[0] != "standins"
        and "tests" not in parts
        and "migrations" not in parts
    )


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that `name` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import mod` imports pkg.mod; `from mod import name` imports mod.
            candidates = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                for alias in node.names
            ]
        else:
            continue
        for candidate in candidates:
            # The longest known module that the imported name lives in.
            parts = candidate.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts:
                target = ".".join(parts)
                if target != name:
                    targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: _imports(name, path, known) for name, path in modules.items() if _is_product(name)
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in graph:
                continue
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_entry_point(name: str) -> bool:
    parts = name.split(".")
    last = parts[-1]
    return (
        last.startswith("admin")
        or last.startswith("api")
        or "management" in parts
        or (len(parts) > 1 and parts[1] in ("admin", "api"))
    )


def test_the_graph_sees_imports_inside_functions():
    # A guard against a graph that silently finds nothing: the demo command imports the
    # stand-ins inside a method.
    assert "standins.demo" in _imports(DEMO_COMMAND, _modules()[DEMO_COMMAND], set(_modules()))


def test_no_import_cycle_among_project_modules():
    assert _cycles(_graph()) == []


def test_the_domain_apps_never_import_the_bot():
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in _graph().items()
        if name.split(".")[0] in DOMAIN and not _is_entry_point(name)
        for target in targets
        if target.split(".")[0] == "botapp"
    )
    assert wrong == []


def test_no_product_module_imports_the_standins():
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in _graph().items()
        if name != DEMO_COMMAND
        for target in targets
        if target.split(".")[0] == "standins"
    )
    assert wrong == []


def _function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, source) of every import of a project module inside a function body."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and not inner.level:
                names = [inner.module or ""]
            else:
                continue
            if any(name.split(".")[0] in APPS for name in names):
                found.append((inner.lineno, lines[inner.lineno - 1]))
    return found


def test_an_import_inside_a_function_says_why():
    unexplained = []
    for name, path in _modules().items():
        if not _is_product(name):
            continue
        lines = path.read_text().splitlines()
        for number, line in _function_imports(path):
            above = lines[number - 2].strip() if number > 1 else ""
            if "#" not in line and not above.startswith("#"):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unexplained == []
