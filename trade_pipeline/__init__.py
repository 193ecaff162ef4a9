"""trade_pipeline: French territorial foreign-trade statistics (DGDDI open data) with Dagster."""

import warnings

# We use some Beta Dagster APIs on purpose (partition mappings, single-run backfill policies,
# per-partition data versions); their warnings would drown the logs of every run.
warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview).*")
