"""The order in which the tests are handed to pytest-xdist's workers.

`--dist worksteal` first gives each worker one contiguous slice of the collected tests (the first
third to the first of three workers, and so on), then moves tests from the end of the longest
queue to a worker that ran out. So the order decides what starts at once: each slice begins with
one of the long chains (a shared state and the tests that read it, or a test that mostly waits on
Dagster's daemons) — one after another in one slice, they would make the run as long as their
sum —, the other slow modules are spread so that the slices' costs even out, and quick tests
fill each slice to its size (the ones stolen at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")

#: Rough seconds of each slow module on the 2-core machine, the shared states it builds included
#: (from a fresh-clone run of 2026-12-06; `./scripts/test` prints the slowest tests: keep this in step).
COSTS = {
    "test_print.py": 340, "test_ui.py": 250, "test_production.py": 215, "test_reliability_e2e.py": 170,
    "test_crash_safety.py": 190, "test_publication.py": 130, "test_incremental.py": 110,
    "test_automation_scope.py": 100, "test_hostile_input.py": 70, "test_bad_input.py": 60, "test_fiches.py": 60,
    "test_concurrency.py": 50, "test_browser.py": 45, "test_build.py": 40, "test_no_browser.py": 30,
    "test_grammar.py": 30, "test_sample.py": 25, "test_dagster_internals.py": 20, "test_figures.py": 20,
    "test_reliability.py": 20, "test_territoires_industrie.py": 20,
}
#: The chains that must start at once, one per worker, longest first. The first builds the
#: sample and its fiches with their pictures (`sample_fiches`), which test_fiches reads too.
CHAINS = (("test_print.py", "test_fiches.py"), ("test_production.py",), ("test_ui.py",))


def slice_sizes(count: int, workers: int) -> list[int]:
    """How many tests worksteal's first distribution hands each worker (xdist's own arithmetic)."""
    sizes, remaining = [], count
    for index in range(workers):
        size = remaining // (workers - index)
        sizes.append(size)
        remaining -= size
    return sizes


def ordered(items: Sequence[Item], workers: int, module: Callable[[Item], str]) -> list[Item]:
    """`items` in the order that gives each of `workers` a slice as described above (one worker
    or none: the costliest modules first)."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(module(item), []).append(item)
    if workers <= 1:
        return [item for name in sorted(groups, key=lambda name: -COSTS.get(name, 0)) for item in groups[name]]
    slices: list[list[Item]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index, chain in enumerate(CHAINS[:workers]):
        for name in chain:
            if name in groups:
                slices[index] += groups.pop(name)
                loads[index] += COSTS[name]
    for name in sorted((name for name in groups if name in COSTS), key=COSTS.__getitem__, reverse=True):
        lightest = min(range(workers), key=loads.__getitem__)
        slices[lightest] += groups.pop(name)
        loads[lightest] += COSTS[name]
    quick = [item for group in groups.values() for item in group]
    result: list[Item] = []
    for tests, size in zip(slices, slice_sizes(len(items), workers), strict=True):
        # A slice longer than its share only shifts the next ones: the order still holds.
        filler = max(0, size - len(tests))
        result += tests + quick[:filler]
        del quick[:filler]
    return result + quick
