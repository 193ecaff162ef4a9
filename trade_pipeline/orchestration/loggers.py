"""The loggers of the code location: Dagster's console logger (runs of the UI and the daemon,
`build --verbose`) and the command line's view of a run."""

from __future__ import annotations

import logging
import sys

import dagster as dg


class _AssetMessages(logging.Handler):
    """What the command line shows of a run's log: the assets' own messages (progress,
    warnings). Dagster's events — stack traces of a failure included — stay in the run log."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        if meta.get("dagster_event") is not None:
            return
        step = meta.get("step_key")
        message = meta.get("orig_message") or record.getMessage()
        stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
        print(f"    {step + ': ' if step else ''}{message}", file=stream)


@dg.logger(description="The command line's view of a run: the assets' messages, without Dagster's events.")
def asset_messages(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("trade_pipeline.build", level=logging.INFO)
    logger.addHandler(_AssetMessages())
    return logger


LOGGERS = {"console": dg.colored_console_logger, "cli": asset_messages}
