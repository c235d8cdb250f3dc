"""What a run reports and what it produces: progress snapshots, the result, the history read back from its
events, the verdict on a run that did not learn, and the metadata saved with its model."""
from __future__ import annotations

import collections
import math
import time
from dataclasses import dataclass, field
from typing import Any

from cnn.i18n import N_, _, n_
from cnn.run_config import TrainConfig


@dataclass
class Progress:
    """A snapshot sent to ``on_progress``: plain numbers, safe to hand to another thread."""

    kind: str  # "batch" | "epoch" | "end"
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    elapsed: float
    images_per_sec: float
    logs: dict[str, float]

    @property
    def fraction(self) -> float:
        return min(1.0, ((self.epoch - 1) + self.batch / max(1, self.batches)) / max(1, self.epochs))

    @property
    def eta(self) -> float:
        f = self.fraction
        return self.elapsed * (1 - f) / f if f > 0 else float("nan")


@dataclass
class TrainResult:
    """What a run produced: the model, the curves, test metrics, and how it ended."""

    model: Any
    config: TrainConfig
    history: dict[str, list[float]]
    batch_history: list[dict[str, float]]
    test_loss: float
    test_accuracy: float
    seconds: float
    epochs_done: int
    status: str = "finished"  # "finished" | "stopped" | "nan"
    message: str = ""
    dataset_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The run's own facts, so that saving never reads them from whatever a page shows now.
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int, int] = (0, 0, 0)
    stopped_at: tuple[int, int] | None = None  # (epoch, batch) when status == "stopped"


# How a run ended, made in the training process as a message (i18n.M_), said in the page's language (i18n.said).
LOSS_NAN = N_("Training stopped: the loss became NaN (not a number) at epoch {epoch}, batch {batch}. The learning rate "
              "is probably too high; try 0.001.")
STOPPED_AT = N_("Stopped at epoch {epoch}, batch {batch}.")


def extend_history(history: dict[str, list[float]], more: dict[str, list]) -> None:
    """``history`` with the epochs of another ``fit`` call appended."""
    for k, vals in more.items():
        history.setdefault(k, []).extend(float(v) for v in vals)


MAX_POINTS = 400  # batch points a run keeps (the live chart's thin line)
RECENT = 1000  # newest events a run keeps for whoever relays them on (a driver to its web server)


class RunHistory:
    """A run's progress as pages, records and relays read it, bounded whatever the run's length: every epoch's
    figures, the newest event, at most :data:`MAX_POINTS` batch points (when full, every other point goes and from
    then on only every other new batch is kept: the line keeps its shape at half the detail), and the
    :data:`RECENT` newest events. Adding an event and reading the curves cost the same for a 2,000-batch run as for
    a 200,000-batch one (tests/cnn/test_run_results.py)."""

    def __init__(self, max_points: int = MAX_POINTS, recent: int = RECENT) -> None:
        self.count = 0  # events added so far
        self.epochs: list[Progress] = []
        self.last: Progress | None = None  # the newest batch or epoch event
        self._history: dict[str, list[float]] = {}
        self._points: list[dict[str, float]] = []
        self._max_points, self._stride, self._since_kept = max_points, 1, 0
        self._recent: collections.deque[tuple[int, Progress]] = collections.deque(maxlen=recent)

    def add(self, e: Progress) -> None:
        self.count += 1
        self._recent.append((self.count, e))
        if e.kind == "epoch":
            self.epochs.append(e)
            self.last = e
            for k, v in e.logs.items():
                if k != "learning_rate":
                    self._history.setdefault(k, []).append(v)
        elif e.kind == "batch":
            self.last = e
            self._since_kept += 1
            if self._since_kept >= self._stride:
                self._since_kept = 0
                self._points.append(e.logs)
                if len(self._points) > self._max_points:
                    del self._points[1::2]
                    self._stride *= 2

    def curves(self) -> tuple[dict[str, list[float]], list[dict[str, float]]]:
        """(epoch history, batch points) so far, copies (live charts, run records)."""
        return {k: list(v) for k, v in self._history.items()}, list(self._points)

    def since(self, seen: int) -> list[Progress]:
        """The events after the first ``seen`` (those still kept: the :data:`RECENT` newest)."""
        return [e for i, e in self._recent if i > seen]


def verdict(result: TrainResult) -> str:
    """Why a run that ran to the end did not learn ("" when it did): it diverged, or it guesses."""
    if result.status != "finished":
        return ""
    k = max(2, len(result.class_names) or 10)
    losses = result.history.get("loss", [])
    last = losses[-1] if losses else float("nan")
    if losses and (not math.isfinite(last) or last > 3 * math.log(k)):
        return _("The run diverged: the training loss ended at {last:,.0f}, far above the {guess:.2f} of plain "
                 "guessing, so the weights blew up instead of learning. Lower the learning rate (try 0.001) or use a "
                 "smaller batch size, then train again.", last=last, guess=math.log(k))
    acc = result.test_accuracy
    updates = result.extra.get("updates", 0)
    if not math.isnan(acc) and acc <= 1.5 / k and 0 < updates < 30:
        return n_("The model did not learn yet: its test accuracy of {acc:.0%} is what guessing gets ({guess:.0%}), "
                  "and it made only {n} weight update (batches of {batch}). Use more training images, more epochs or a "
                  "smaller batch size.", "The model did not learn yet: its test accuracy of {acc:.0%} is what guessing "
                  "gets ({guess:.0%}), and it made only {n} weight updates (batches of {batch}). Use more training "
                  "images, more epochs or a smaller batch size.", updates, acc=acc, guess=1 / k,
                  batch=result.config.batch_size)
    if not math.isnan(acc) and acc <= 1.5 / k:
        return _("The model did not learn: its test accuracy of {acc:.0%} is what guessing gets ({guess:.0%}). Lower "
                 "the learning rate (try 0.001), train for more epochs, or check the layers.", acc=acc, guess=1 / k)
    return ""


def result_metadata(result: TrainResult, made_by: str) -> dict[str, Any]:
    """The JSON metadata stored beside a saved model (see cnn.store), from the run's own facts."""
    config = result.config
    return {
        "dataset": config.dataset,
        "class_names": list(result.class_names),
        "input_shape": list(result.image_shape),
        "arch": config.arch,
        "spec": config.resolved_spec(),
        "config": config.as_dict(),
        "history": result.history,
        "batch_history": result.batch_history[::max(1, len(result.batch_history) // 400)],
        "test": {"loss": result.test_loss, "accuracy": result.test_accuracy},
        "status": result.status,
        "params": int(result.model.count_params()),
        "training_seconds": round(result.seconds, 2),
        "data_source": result.dataset_source,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "made_by": made_by,
    }
