"""When Dagster's automation re-materializes each asset: only when what it reads changed.

Dagster's `eager()` fires when a parent was *updated*, whatever its data; these fire when a
parent's *data version* changed (docs/refresh.md), for every year, not only the latest.
Territory slices carry one content hash per territory, so a change in one département reaches
that département, its région and France — not 116 territories.
"""

import dagster as dg

AC = dg.AutomationCondition

#: A parent's data version changed since the last evaluation (not by a run of this very chain).
_PARENT_DATA_CHANGED = AC.data_version_changed() & ~AC.executed_with_root_target()

#: Eager on data change: a parent's data changed, or a parent is requested in the same tick.
EAGER_ON_DATA_CHANGE = (
    AC.eager()
    .replace("any_deps_updated",
             AC.any_deps_match(_PARENT_DATA_CHANGED | AC.will_be_requested()).with_label("any_deps_data_changed"))
    .without(AC.in_latest_time_window())
    .with_label("eager_on_data_change")
)


#: The asset's code version changed, for the partitions that exist (the others are new partitions).
_NEW_CODE = (AC.code_version_changed() & ~AC.missing()).with_label("code_version_changed")


def _missing(parent: dg.AssetsDefinition) -> dg.AutomationCondition:
    """A partition of `parent` this one reads is missing (and not about to be made)."""
    return AC.any_deps_match(AC.missing() & ~AC.will_be_requested()).allow(dg.AssetSelection.assets(parent))


def _data_changed(*parents: dg.AssetsDefinition) -> dg.AutomationCondition:
    """The data of one of these parents changed, or it is requested in the same tick."""
    return AC.any_deps_match(_PARENT_DATA_CHANGED | AC.will_be_requested()).allow(dg.AssetSelection.assets(*parents))


def _when(trigger: dg.AutomationCondition, label: str, required: dg.AssetsDefinition | None = None
          ) -> dg.AutomationCondition:
    """The shape of our conditions: on a new partition or on `trigger`, once per change, never
    while a parent or the asset itself runs, and (given `required`) once what it reads is there."""
    condition = (AC.newly_missing() | trigger).since_last_handled()
    if required is not None:
        condition = condition & ~_missing(required)
    return (condition & ~AC.any_deps_in_progress() & ~AC.in_progress()).with_label(label)


def eager_on_data_of(changed: tuple[dg.AssetsDefinition, ...], required: dg.AssetsDefinition,
                     redo_on_new_code: bool = False) -> dg.AutomationCondition:
    """Eager on a change of the data of `changed`, once `required` is there — for assets that
    also read partitions which may be missing forever: the charts read every earlier year of
    their territory's marts (years before the store's first are never made), the fiches rank
    their territory among all the others (a `--departement` build makes a few).

    `redo_on_new_code`: also when the asset's code version changed, for the partitions that
    exist — what it writes changed (the charts' typed tables, which the fiches read; a fiche's
    template)."""
    trigger = _data_changed(*changed)
    if redo_on_new_code:
        trigger = trigger | _NEW_CODE
    return _when(trigger, "eager_on_data_change", required)


def after_slices_materialized(slices: dg.AssetsDefinition, rows: dg.AssetsDefinition) -> dg.AutomationCondition:
    """For the marts: whenever a territory's slice was materialized — every slice of a year is,
    when the year's rows change. The marts step recomputes only the territories whose slice
    changed (aggregation/marts.py `unchanged_marts`) and materializes the others again with their
    version unchanged: their provenance then names the current rows, and Dagster's UI shows them
    current rather than « Unsynced ».

    The marts also read the previous year's slice (growth); the year may have no previous year,
    so "a parent is missing" is checked on the year's rows only. New code that changes what the
    marts hold (a mart added) recomputes the marts that exist.
    """
    slices_materialized = AC.any_deps_match(AC.newly_updated() & ~AC.executed_with_root_target()
                                            ).allow(dg.AssetSelection.assets(slices))
    return _when(slices_materialized | _NEW_CODE, "after_slices_materialized", rows)


def after_any_data_change(*parents: dg.AssetsDefinition, redo_on_new_code: bool = False) -> dg.AutomationCondition:
    """For the unpartitioned outputs that read every year (published store, index): whenever a
    listened parent's data changed (or, with `redo_on_new_code`, its own code). No "a parent is
    missing" rule: years without data are missing partitions forever."""
    trigger = _data_changed(*parents)
    return _when(trigger | _NEW_CODE if redo_on_new_code else trigger, "after_any_data_change")
