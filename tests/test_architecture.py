"""The structure ARCHITECTURE.md promises, checked on the source itself (no database):

- no resource package imports another resource's service (or routes); models import only
  `common` and the extensions; `common` and the ledger import no service or routes;
- no two modules import each other, directly or round a loop;
- balances (cleared and reconciled ones too) and the per-user transaction count are written
  only in app/ledger.

`import_graph()` and `package_graph()` also print the dependency picture:
`python -m tests.test_architecture`.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
#: Subpackages of app/ that are building blocks, not resources.
LAYERS = {"common", "ledger"}
#: Columns only app/ledger may write.
LEDGER_COLUMNS = {"balance", "cleared_balance", "reconciled_balance", "transaction_count"}
RAW_SQL_WRITE = re.compile(
    r"\bSET\s+(balance|cleared_balance|reconciled_balance|transaction_count)\b", re.IGNORECASE
)


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(APP.rglob("*.py"))}


def imports_of(tree: ast.Module, known: set[str]) -> set[str]:
    """Every app module that `tree` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from app import ledger` imports app.ledger; `from app.x import y` imports app.x,
            # or app.x.y when that is a module.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    trees = modules()
    known = set(trees)
    graph = {}
    for name, tree in trees.items():
        targets = imports_of(tree, known)
        # "from app.x import y" names app.x too; keep only the most precise module.
        graph[name] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
        graph[name].discard(name)
    return graph


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def package_graph() -> dict[str, set[str]]:
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        packages[package_of(module)].update(
            package_of(t) for t in targets if package_of(t) != package_of(module)
        )
    return dict(packages)


def resources() -> set[str]:
    return {
        path.name
        for path in APP.iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in LAYERS
    }


def kind(module: str) -> str:
    """service, routes, models, schemas... : the module's own name within its package."""
    return module.rsplit(".", 1)[-1]


def test_no_resource_imports_another_resources_service_or_routes():
    offending = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if package_of(module) in resources()
        for target in targets
        if package_of(target) in resources()
        and package_of(target) != package_of(module)
        and kind(target) in {"service", "routes"}
    ]
    assert offending == []


def test_models_import_only_common_and_the_extensions():
    offending = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if kind(module) == "models"
        for target in targets
        if package_of(target) not in {"common", "extensions"}
    ]
    assert offending == []


def test_common_and_the_ledger_import_no_service_and_no_routes():
    offending = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if package_of(module) in LAYERS
        for target in targets
        if kind(target) in {"service", "routes"} or package_of(target) == "app"
    ]
    assert offending == []


def test_common_imports_no_resource():
    offending = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if package_of(module) == "common"
        for target in targets
        if package_of(target) not in {"common", "extensions"}
    ]
    assert offending == []


def test_the_extensions_import_nothing_of_the_app():
    assert import_graph()["app.extensions"] == set()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_two_modules_import_each_other():
    assert cycles(import_graph()) == []


def test_packages_import_each_other_only_through_the_ledgers_layers():
    """A resource's service calls the ledger, and the ledger reads that resource's models: the
    one way two packages meet in both directions, and only models are below the ledger."""
    graph = package_graph()
    mutual = {
        tuple(sorted((a, b)))
        for a, targets in graph.items()
        for b in targets
        if a in graph.get(b, ())
    }
    assert all("ledger" in pair for pair in mutual), mutual
    below_ledger = {t for m, ts in import_graph().items() if package_of(m) == "ledger" for t in ts}
    assert {kind(t) for t in below_ledger if package_of(t) in resources()} == {"models"}


def test_the_cycle_check_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def ledger_writes(tree: ast.Module) -> list[str]:
    """Where `tree` writes a balance or a transaction count: an assignment to `x.balance`, a
    `balance=` keyword (Account(...), update().values(...)), a dict key, or raw SQL."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr in LEDGER_COLUMNS:
                        found.append(f"line {node.lineno}: assigns .{part.attr}")
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in LEDGER_COLUMNS:
                    found.append(f"line {node.lineno}: {keyword.arg}= in a call")
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    for key in arg.keys:
                        if isinstance(key, ast.Constant) and key.value in LEDGER_COLUMNS:
                            found.append(f"line {node.lineno}: {key.value!r} key in a call")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and RAW_SQL_WRITE.search(node.value)
        ):
            found.append(f"line {node.lineno}: raw SQL sets a ledger column")
    return found


def test_balances_and_counts_are_written_only_in_the_ledger():
    offending = [
        f"{module} {where}"
        for module, tree in modules().items()
        if package_of(module) != "ledger"
        for where in ledger_writes(tree)
    ]
    assert offending == []


@pytest.mark.parametrize(
    "source",
    [
        "account.balance = 5",
        "account.balance += delta",
        "Account(user_id=1, balance=0)",
        "update(Account).values(balance=Account.balance + 1)",
        "update(User).values({'transaction_count': 0})",
        "db.session.execute(text('UPDATE accounts SET balance = 0'))",
        "user.transaction_count -= 1",
    ],
)
def test_the_ledger_write_check_finds_each_kind_of_write(source):
    assert ledger_writes(ast.parse(source)) != []


def test_the_ledger_write_check_lets_reads_and_schema_fields_through():
    source = "balance = Money(dump_only=True)\nx = account.balance + account.opening_balance"
    assert ledger_writes(ast.parse(source)) == []


if __name__ == "__main__":
    for package, targets in sorted(package_graph().items()):
        print(f"{package:>14} -> {', '.join(sorted(targets)) or '(nothing)'}")
