"""The package's shape: no import cycles, lower floors never import higher ones, and no
hidden settings in environment variables."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "paperlib"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at any depth of the file, lazy imports too)."""
    files = {_module_name(p): p for p in package.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                deps.add(mod)
                deps.update(f"{mod}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        # a module's own package (its __init__) is not a dependency on a higher floor
        graph[name] = {d for d in deps if d in files and d != name and not name.startswith(d + ".")}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_paperlib_has_no_import_cycles():
    assert find_cycles(import_graph()) == []


# who may not import whom: the store is passive, train trains one run, executors know
# where work runs but not what it is; orchestration (runs) and above sit on top
FORBIDDEN = {
    "paperlib.store": {"paperlib.train", "paperlib.runs", "paperlib.executors", "paperlib.reproduce"},
    "paperlib.train": {"paperlib.runs", "paperlib.executors", "paperlib.reproduce", "paperlib.costs"},
    "paperlib.executors": {"paperlib.runs", "paperlib.train", "paperlib.reproduce", "paperlib.costs"},
    "paperlib.config": {"paperlib.store", "paperlib.train", "paperlib.runs", "paperlib.data"},
    "paperlib.methods": {"paperlib.config", "paperlib.store", "paperlib.train", "paperlib.runs", "paperlib.data"},
    "paperlib.mixing": {"paperlib.config", "paperlib.methods", "paperlib.data"},
}


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_lower_floors_do_not_import_higher_ones(module):
    assert import_graph()[module] & FORBIDDEN[module] == set()


def test_no_settings_hidden_in_environment_variables():
    """Only paths.py reads the environment (where the repository's runs/data/figures live)."""
    readers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Subscript, ast.Attribute)) else ""
            if text.startswith(("os.environ.get", "os.getenv", "os.environ[")):
                readers.append(f"{path.relative_to(PACKAGE)}: {text}")
    assert {r.split(":")[0] for r in readers} == {"paths.py"}, readers
