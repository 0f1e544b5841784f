"""What a MongoDB failure means to a client: an outage is worth retrying, anything else is ours."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure

# Far more than any real chain; a bound because __context__ may, in principle, loop.
_MAX_CHAIN = 16


def outage_behind(error: BaseException | None) -> ConnectionFailure | None:
    """The MongoDB connection failure behind ``error`` (itself, its cause or its context).

    ConnectionFailure covers an unreachable server (ServerSelectionTimeoutError), a dropped or
    timed-out connection (AutoReconnect, NetworkTimeout, NotPrimaryError during an election)
    and an exhausted pool (WaitQueueTimeoutError): a later retry can succeed. Query errors
    (OperationFailure, ExecutionTimeout) are not outages.
    """
    for _ in range(_MAX_CHAIN):
        if error is None:
            return None
        if isinstance(error, ConnectionFailure):
            return error
        error = error.__cause__ or error.__context__
    return None


def summary(error: BaseException, limit: int = 300) -> str:
    """One line for the log: pymongo appends the whole topology description to its message."""
    text = str(error).split(", Topology Description:")[0].replace("\n", " ")
    return f"{type(error).__name__}: {text[:limit]}"
