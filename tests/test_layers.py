"""The layers of docs/ARCHITECTURE.md, checked: every import in the tree (also those
inside functions) points down, and no runtime module imports itself back through
others. (That the runtime imports only what requirements.txt installs is
tests/deploy/test_compose_and_image.py's.)"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Package -> the packages of this repository it may import (besides itself).
MAY_IMPORT = {
    "core": set(),
    "security": {"core"},
    "chat": {"core", "security"},
    "kirb_project": {"core", "security", "chat"},
    "devtools": {"core", "security", "chat", "kirb_project"},
    "tests": {"core", "security", "chat", "kirb_project", "devtools"},
}
RUNTIME = ("core", "security", "chat", "kirb_project")


def modules():
    """(dotted name, path) of every module of the repository's packages."""
    for package in MAY_IMPORT:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports_of(name, path):
    """Absolute names ``path`` imports, anywhere in it (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield from (f"{base}.{alias.name}" for alias in node.names)


MODULES = dict(modules())
GRAPH = {name: set(imports_of(name, path)) for name, path in MODULES.items()}


def top(name):
    return name.split(".")[0]


def test_every_import_points_down_the_layers():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if top(target) in MAY_IMPORT and top(target) != top(name) and top(target) not in MAY_IMPORT[top(name)]
    )
    assert not wrong, "imports against docs/ARCHITECTURE.md:\n" + "\n".join(wrong)


def internal_edges():
    """Module -> the repository modules it imports (``from chat import hub`` is chat.hub)."""
    edges = {}
    for name, targets in GRAPH.items():
        if top(name) not in RUNTIME:
            continue
        edges[name] = {
            target if target in MODULES else target.rpartition(".")[0]
            for target in targets
            if top(target) in RUNTIME
        } & MODULES.keys() - {name}
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_in_the_runtime():
    # Package __init__ modules importing their own submodules are not cycles of design.
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in internal_edges().items()}
    assert not cycles(edges)
