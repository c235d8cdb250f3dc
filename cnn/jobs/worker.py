"""The code that trains, wherever a job runs: a local worker process or a Ray task.

:func:`run_request` trains one :class:`JobRequest` and returns a picklable payload (the model
as ``.keras`` bytes); :func:`unpack` turns the payload back into a :class:`TrainResult` on the
server, loading the model in Keras safe mode. ``python -m cnn.jobs.worker`` is the local worker
process: it imports TensorFlow once, then trains the jobs its engine sends over a :class:`~cnn.jobs.channel.Channel`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn import settings
from cnn.errors import first_line
from cnn.jobs.base import JobRequest
from cnn.jobs.channel import (
    Channel,
    ChannelError,
    Envelope,
    Exit,
    Failed,
    Finished,
    Prepare,
    Ready,
    Reported,
    Run,
    Started,
    Stop,
)
from cnn.run_config import TrainingError
from cnn.run_results import Progress, TrainResult


def device_description() -> str:
    from cnn.training import device_description as describe

    return describe()


def run_request(request: JobRequest, report: Callable[[Progress], None] | None,
                should_stop: Callable[[], bool], prepared=None) -> dict[str, Any]:
    """Train one request; the result with its model as ``.keras`` bytes (picklable, safe to load). ``prepared``:
    a model :func:`cnn.training.prepare` made while the worker was idle (used if it is this run's)."""
    import keras

    from cnn import keras_files, training

    ds = request.dataset
    if prepared is None or request.initial_model or prepared.key != training.prepare_key(
            request.config, ds.image_shape, ds.num_classes, len(ds.train_images)):
        prepared = None
        keras.backend.clear_session(free_memory=False)  # a worker trains many jobs: start each one clean
    model = keras_files.load_keras_bytes(request.initial_model) if request.initial_model else None
    result = training.train(request.config, ds, on_progress=report, should_stop=should_stop,
                            model=model, evaluate=request.evaluate, prepared=prepared)
    return {"result": replace(result, model=None), "model": keras_files.model_to_bytes(result.model)}


class Datasets:
    """The datasets a worker holds, by fingerprint (:func:`cnn.data.fingerprint`): the engine sends a dataset once,
    then only its fingerprint. The worker's reader thread takes every message in the order the engine sent them,
    and both keep the :data:`KEPT` most recently used the same way, so a worker always holds what its engine
    counts on."""

    KEPT = 2

    def __init__(self) -> None:
        import collections

        self._held: collections.OrderedDict[str, Any] = collections.OrderedDict()

    def take(self, key: str, dataset: Any = None) -> Any:
        """The dataset of fingerprint ``key``: ``dataset`` as sent (kept for next time), else the one kept (None if
        it is not held: the run then says so)."""
        if dataset is not None:
            self._held[key] = dataset
        if key in self._held:
            self._held.move_to_end(key)
        while len(self._held) > self.KEPT:
            self._held.popitem(last=False)
        return self._held.get(key, dataset)


class DatasetsSent:
    """The sending side of :class:`Datasets`: the fingerprints one receiver (a worker, the Ray driver) holds, kept the
    same way, so that a dataset travels once and then only its fingerprint."""

    def __init__(self) -> None:
        import collections

        self._held: collections.OrderedDict[str, None] = collections.OrderedDict()

    def sending(self, dataset: Any) -> tuple[str, bool]:
        """(the dataset's fingerprint, whether the receiver holds it already), counted as held from now on."""
        from cnn import data

        key = data.fingerprint(dataset)
        held = key in self._held
        self._held[key] = None
        self._held.move_to_end(key)
        while len(self._held) > Datasets.KEPT:
            self._held.popitem(last=False)
        return key, held

    def request(self, request: Any) -> Any:
        """``request`` as it travels: with its dataset the first time, then with only the dataset's fingerprint
        (the receiver puts it back with :meth:`Datasets.take`)."""
        if request.dataset is None:
            return request
        key, held = self.sending(request.dataset)
        return replace(request, dataset=None if held else request.dataset, dataset_key=key)


def unpack(payload: dict[str, Any]) -> TrainResult:
    """The TrainResult of a payload from :func:`run_request`, its model loaded in safe mode."""
    from cnn import keras_files

    return replace(payload["result"], model=keras_files.load_keras_bytes(payload["model"]))


def error_message(e: BaseException) -> str:
    """A failure inside training as one readable line for the page (the traceback goes to the log)."""
    if isinstance(e, TrainingError):
        return str(e)
    if isinstance(e, MemoryError):
        return "Training ran out of memory; use a smaller batch size or model."
    traceback.print_exc()
    return f"Training failed: {type(e).__name__}: {first_line(e) if str(e).strip() else ''}"


def main() -> None:  # pragma: no cover - runs in the worker process (tests drive it through LocalEngine)
    """The local worker: one job at a time from the engine; a Stop may arrive at any moment."""
    channel = Channel.from_fd(settings.value("CNN_WORKER_FD"), "the CNN Lab server")
    with contextlib.suppress(OSError, ValueError):  # the app's pages stay responsive while it trains
        os.nice(settings.value("CNN_WORKER_NICE"))
    from cnn.import_tf import import_tensorflow

    import_tensorflow()  # warm: the first job does not wait for the import (without Keras's optional packages)

    def send(message: Envelope) -> None:
        try:
            channel.send(message)
        except OSError:
            os._exit(0)  # the server is gone

    stop = threading.Event()
    runs: list[Run | Prepare] = []
    have_run = threading.Condition()

    def read() -> None:
        while True:
            try:
                message = channel.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: never linger as an orphan
            except ChannelError as e:  # another version of CNN Lab: say so in the server's log and end
                print(f"CNN Lab worker: {e}", file=sys.stderr, flush=True)
                os._exit(2)
            if isinstance(message, Stop):
                stop.set()
            elif isinstance(message, Run):
                stop.clear()  # messages arrive in order: a stop sent after this run is not lost
                request = message.request
                if request.dataset_key:
                    request = replace(request, dataset=datasets.take(request.dataset_key, request.dataset))
                with have_run:
                    runs.append(Run(message.job_id, request))
                    have_run.notify()
            elif isinstance(message, Prepare):
                # kept even when the hint itself is dropped; the hint gets the very object a Run finds by its key
                message = replace(message, dataset=datasets.take(message.key, message.dataset))
                with have_run:  # only the newest hint counts, and only while no run waits
                    runs[:] = [m for m in runs if not isinstance(m, Prepare)]
                    if not runs:
                        runs.append(message)
                        have_run.notify()
            elif isinstance(message, Exit):
                os._exit(0)

    datasets = Datasets()  # used by the reader thread alone
    threading.Thread(target=read, name="worker-reader", daemon=True).start()
    send(Ready(os.getpid(), device_description()))
    prepared = None
    while True:
        with have_run:
            while not runs:
                have_run.wait()
            message = runs.pop(0)
        if isinstance(message, Prepare):  # idle: get the run the page shows ready (cnn.training.prepare)
            prepared = _prepare(message.shapes, message.dataset, prepared)
            continue
        job_id, request = message.job_id, message.request
        send(Started(job_id))
        try:
            if request.dataset is None:
                raise RuntimeError("the worker no longer holds this run's dataset; start the run again")
            payload = run_request(request, lambda p, job_id=job_id: send(Reported(job_id, p)), stop.is_set, prepared)
            send(Finished(job_id, payload))
        except BaseException as e:
            send(Failed(job_id, error_message(e)))
        prepared = None  # used, or made for another run
        sys.stdout.flush()


def _prepare(hint: tuple, dataset, prepared):
    """A prepared model for ``hint`` (config, image shape, classes, training images) with ``dataset``'s arrays and
    first batches, or the one already made for them; None when it cannot be made (the run then builds its own and
    says what is wrong)."""
    from cnn import training

    config, shape, classes, n = hint
    if prepared is not None and prepared.key == training.prepare_key(config, shape, classes, n) and (
            prepared.data is dataset):
        return prepared
    try:
        return training.prepare(config, shape, classes, n, dataset)
    except Exception:  # a config the run itself will reject with a message
        return None


if __name__ == "__main__":
    main()
