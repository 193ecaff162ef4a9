"""The Dagster wiring: resources, partitions, conditions, the refresh that decides what runs, sensors,
schedules, the instance, the command line's build loop, and the one adapter of Dagster's private APIs."""
