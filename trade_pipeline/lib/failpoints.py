"""Named points where the crash tests kill the process, like etcd's or TiKV's failpoints.

`TRADE_PIPELINE_FAILPOINT=<name>` makes the process SIGKILL itself when it reaches `<name>`:
no cleanup, no `finally`, no flush — what a power cut or the OOM killer does. Unset (always, in
normal use) a failpoint is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

#: Inside the transaction that replaces a year's rows, after the new rows were inserted.
WAREHOUSE_WRITE = "warehouse_write"
#: Inside the transaction that replaces a latest publication's rows, after they were inserted.
PROVISIONAL_WRITE = "provisional_write"
#: After the new published store was fully written to its temporary file, before the swap.
PUBLISH_SWAP = "publish_swap"
#: Half-way through writing the tables of the new published store.
PUBLISH_WRITE = "publish_write"


def failpoint(name: str) -> None:
    if os.environ.get("TRADE_PIPELINE_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
