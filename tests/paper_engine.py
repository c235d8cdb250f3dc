"""An engine without TensorFlow for tests of what every engine shares (records, the reaper)."""
from cnn.jobs.base import Engine


class PaperEngine(Engine):
    """An engine that trains nothing: the test moves its jobs by hand (records only, no TensorFlow)."""

    name = "paper"

    def _enqueue(self, job, request):
        pass

    def _cancel_queued(self, job):
        return True

    def _interrupt(self, job):
        self.interrupted.append(job.id)

    def place(self, job):
        return 1

    def capacity(self):
        return {"limit": 1, "running": 0, "waiting": 0, "where": "paper"}

    def __init__(self, heartbeat_timeout: float = 600):
        super().__init__(heartbeat_timeout=heartbeat_timeout)
        self.interrupted: list[str] = []
