"""Local worker processes: one fresh process per run, a few runs at a time."""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
from multiprocessing.process import BaseProcess
from typing import Any

from api.clock import utcnow
from api.db import Database
from api.jobs.worker import run_allocation
from api.repositories.runs import RunRepository

__all__ = ["LocalWorkers", "exit_reason"]


def exit_reason(exitcode: int | None) -> str:
    """Why a worker process ended without finishing its run, for a broker to read."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker process was killed ({name}) before the run finished"
    return f"the worker process exited (code {exitcode}) before the run finished"


class LocalWorkers:
    """Runs jobs in child processes; ``slots`` of them at once.

    A dispatcher thread per slot starts a process, waits for it, and if the
    run is still queued or running afterwards (the process was killed or
    crashed) marks it failed with the reason. A job's solver threads are cut
    to ``threads``: the machine's cores are shared with the server.
    """

    embedded = True

    def __init__(
        self, db: Database, *, slots: int, start_method: str, threads: int | None = None
    ) -> None:
        self.db = db
        self.threads = threads
        self._context: Any = multiprocessing.get_context(start_method)
        self._jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._running: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._serve, name=f"respite-dispatch-{i}", daemon=True)
            for i in range(slots)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: dict[str, Any]) -> None:
        self._jobs.put(job)

    def processes(self) -> dict[str, BaseProcess]:
        """The worker process of each run being solved now."""
        with self._lock:
            return dict(self._running)

    def close(self) -> None:
        """Stop taking jobs; end the processes still solving (their runs fail)."""
        for _ in self._threads:
            self._jobs.put(None)
        for process in self.processes().values():
            process.terminate()
        for thread in self._threads:
            thread.join(timeout=10)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._run(job)
            except Exception as exc:  # keep the dispatcher alive whatever happens
                self._fail(job["run_id"], f"the run could not be started: {exc}")

    def _run(self, job: dict[str, Any]) -> None:
        run_id = job["run_id"]
        if self.threads is not None:
            job = job | {"threads": min(int(job.get("threads", self.threads)), self.threads)}
        process = self._context.Process(
            target=run_allocation, args=(job,), name=f"respite-{run_id}", daemon=True
        )
        process.start()
        with self._lock:
            self._running[run_id] = process
        process.join()
        with self._lock:
            del self._running[run_id]
        self._fail(run_id, exit_reason(process.exitcode))

    def _fail(self, run_id: str, reason: str) -> None:
        # A no-op when the worker finished the run itself.
        with self.db.write() as session:
            RunRepository(session).fail([run_id], reason, utcnow())
