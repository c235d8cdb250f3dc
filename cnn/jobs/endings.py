"""How a run's end and its place are said: whole sentences (message ids, :func:`cnn.i18n.M_`), one per case, that
each page says in its reader's language. A stop asked for by the student, by the teacher, by a heartbeat that stopped
coming (the tab was closed) or by a shutdown each gets its own.
"""
from __future__ import annotations

from cnn.i18n import M_, N_, Message

DIED = N_("The training process ended unexpectedly (it was killed or ran out of memory), so this run was lost. "
          "Try again; if it happens again, use a smaller batch size or model.")
FAILED = N_("The training failed.")
# Why the training cluster is not in use (cnn.jobs.cluster, made in the engine's thread or the Ray driver process).
CLUSTER_REFUSED = N_("The training cluster at {address} refused this server: authentication failed (give CNN Lab "
                     "RAY_AUTH_MODE=token and the cluster's RAY_AUTH_TOKEN).")
CLUSTER_UNREACHABLE = N_("The training cluster at {address} could not be reached.")
CLUSTER_SILENT = N_("The training cluster stopped answering.")
# Where a run trains (Job.where), as the engine that started it says it.
ON_LOCAL_WORKER = N_("this server (training process {pid})")
ON_RAY_NODE = N_("Ray node {node} ({device})")
ON_RAY_NODE_GPU = N_("Ray node {node} ({device}, GPU)")


# How a run that was stopped or removed is explained, by who or what did it: whole sentences, one per case. They
# are kept as messages (i18n.M_): each page says them in its reader's language (i18n.said).
STOPPED_AT = {"teacher": N_("Stopped by your teacher at epoch {epoch}, batch {batch}."),
              "abandoned": N_("Stopped at epoch {epoch}, batch {batch} because no page of this session was open for "
                              "{seconds:.0f} s (the browser tab was closed)."),
              "shutdown": N_("Stopped at epoch {epoch}, batch {batch}: the CNN Lab server was shut down."),
              "user": N_("Stopped by you at epoch {epoch}, batch {batch}.")}
STOPPED = {"teacher": N_("Stopped by your teacher."),
           "abandoned": N_("Stopped because no page of this session was open for {seconds:.0f} s (the browser tab was "
                           "closed)."),
           "shutdown": N_("Stopped: the CNN Lab server was shut down."),
           "user": N_("Stopped by you.")}
CANCELLED = {"teacher": N_("Your teacher removed this run from the queue before it started."),
             "abandoned": N_("Removed from the queue before it started: no page of this session was open for "
                             "{seconds:.0f} s (the browser tab was closed)."),
             "shutdown": N_("The CNN Lab server was shut down before this run started."),
             "user": N_("You removed this run from the queue before it started.")}


def stop_message(reason: str | None, at: tuple[int, int] | None, timeout: float) -> Message:
    """How a stopped run is explained to the student, by who or what stopped it."""
    if at:
        return M_(STOPPED_AT.get(reason or "", STOPPED_AT["user"]), epoch=at[0], batch=at[1], seconds=timeout)
    return M_(STOPPED.get(reason or "", STOPPED["user"]), seconds=timeout)


def cancel_message(reason: str | None, timeout: float) -> Message:
    """How a run that never started is explained, by who or what removed it from the queue."""
    return M_(CANCELLED.get(reason or "user", CANCELLED["user"]), seconds=timeout)
