"""The layout holds: imports go one way (the contracts of .importlinter), no module takes part in
an import cycle (function-level imports included), app/ keeps at most eight top-level modules,
and nothing acts on the session by being imported."""
import ast
import os
import pathlib
import subprocess
import sys

import grimp

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def test_the_import_contracts_hold():
    """The layers (entry points → domain → workflows → core → models) and no sibling cycles,
    as CI's ``lint-imports`` checks them."""
    result = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                             " lint_imports_command()", "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_module_is_part_of_an_import_cycle():
    """Stricter than the sibling contract: a package and its own modules count too, and an
    import inside a function is an import."""
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("app", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]


def test_app_keeps_at_most_eight_top_level_modules():
    modules = sorted(p.name for p in APP.glob("*.py"))
    assert len(modules) <= 8, modules


def _module_level_registrations(path):
    """Calls that install a listener or a token kind at import time: decorators
    ``@event.listens_for`` on module-level functions, and module-level calls of
    ``event.listen``, ``cache_tokens.register`` or ``cache_tokens.track_rows``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        calls = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            calls = [node.value]
        for call in calls:
            name = ast.unparse(call.func)
            if name.endswith(("listens_for", "event.listen", "cache_tokens.register",
                              "cache_tokens.track_rows")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_nothing_is_installed_by_being_imported():
    """Listeners and token kinds are installed from the table of app/listeners.py only."""
    found = []
    for dirpath, _dirs, files in os.walk(APP):
        for name in files:
            if name.endswith(".py"):
                found += _module_level_registrations(pathlib.Path(dirpath) / name)
    assert found == []
