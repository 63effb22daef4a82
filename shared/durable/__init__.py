"""Durable work for both nodes (the client's runs, the server's jobs), in the manner of Flower's core state
under its server and client: a queue over any ``DurableWork`` row class, named stages checkpointed and
skipped on resume, a worker with heartbeats and recovery, and one way work ends early (cancel, shutdown).

It takes a row class and a callable, never a node's own types."""

from shared.durable.control import Control
from shared.durable.errors import Cancelled, Stopping
from shared.durable.queue import TERMINAL, WorkQueue
from shared.durable.row import DurableWork
from shared.durable.stages import Stages
from shared.durable.worker import Worker, WorkerTiming, execute
from shared.errors import StageInterruptedError

__all__ = [
    "TERMINAL",
    "Cancelled",
    "Control",
    "DurableWork",
    "StageInterruptedError",
    "Stages",
    "Stopping",
    "WorkQueue",
    "Worker",
    "WorkerTiming",
    "execute",
]
