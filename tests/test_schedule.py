"""The order the workers get the tests in (tests/schedule.py): the long chains start at once."""

from .schedule import CHAINS, COSTS, ordered, slice_sizes


def collection() -> list[tuple[str, int]]:
    """A collection like the suite's: every slow module a few tests, and many quick ones."""
    items = [(module, index) for module in sorted(COSTS) for index in range(3)]
    return items + [(f"test_quick_{index}.py", 0) for index in range(200)]


def test_each_worker_starts_with_one_long_chain():
    items = collection()
    order = ordered(items, 3, lambda item: item[0])
    assert sorted(order) == sorted(items)  # nothing lost, nothing twice
    start = 0
    for chain, size in zip(CHAINS, slice_sizes(len(order), 3), strict=True):
        first = order[start:start + size]
        assert first[0][0] == chain[0], (chain, first[:3])
        assert {module for module, _ in first} >= set(chain)  # a chain stays in one slice
        start += size


def test_the_slow_modules_are_spread_evenly():
    order = ordered(collection(), 3, lambda item: item[0])
    loads, start = [], 0
    for size in slice_sizes(len(order), 3):
        loads.append(sum(COSTS.get(module, 0) for module in {module for module, _ in order[start:start + size]}))
        start += size
    assert max(loads) - min(loads) <= max(COSTS.values()) / 2, loads


def test_slices_are_what_worksteal_hands_out_first():
    assert slice_sizes(383, 3) == [127, 128, 128]  # xdist: len(pending) // nodes_remaining, in turn
    assert sum(slice_sizes(10, 4)) == 10


def test_one_worker_gets_the_costliest_first():
    order = ordered(collection(), 1, lambda item: item[0])
    assert order[0][0] == max(COSTS, key=COSTS.__getitem__)
