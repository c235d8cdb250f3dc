"""cnn.run_results: a run's progress stays bounded however long the run, so a page's update each second costs the
same for a long run as for a short one."""
import json

from cnn.run_results import MAX_POINTS, RECENT, Progress, RunHistory


def run_of(batches: int, epochs: int = 4) -> RunHistory:
    h = RunHistory()
    per_epoch = max(1, batches // epochs)
    for b in range(batches):
        epoch = b // per_epoch + 1
        h.add(Progress("batch", epoch, epochs, b % per_epoch + 1, per_epoch, b * 0.01, 1000.0,
                       {"epoch": b / per_epoch, "loss": 1 / (b + 1), "accuracy": b / batches}))
        if (b + 1) % per_epoch == 0:
            h.add(Progress("epoch", epoch, epochs, per_epoch, per_epoch, b * 0.01, 1000.0,
                           {"loss": 1 / (b + 1), "accuracy": b / batches, "learning_rate": 0.001}))
    return h


def update_size(h: RunHistory) -> int:
    """What one update each second handles: the curves the live chart draws and the recorder writes."""
    return len(json.dumps(h.curves()))


def test_a_long_runs_update_handles_no_more_than_a_short_ones():
    short, long, longer = run_of(400), run_of(2_000), run_of(200_000)
    assert len(long.curves()[1]) <= MAX_POINTS and len(longer.curves()[1]) <= MAX_POINTS
    # kept whole on the old code: 2,000 and 200,000 points, and every event scanned at each update
    assert update_size(longer) <= 2 * update_size(long) <= 4 * update_size(short)
    assert len(longer.since(0)) == RECENT


def test_the_thinned_line_keeps_its_ends_order_and_every_epoch():
    h = run_of(10_000)
    history, points = h.curves()
    xs = [p["epoch"] for p in points]
    assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] > 3.9  # from the first batch to (nearly) the last
    assert history["loss"] and len(history["loss"]) == 4 and "learning_rate" not in history
    assert [e.epoch for e in h.epochs] == [1, 2, 3, 4] and h.last.kind == "epoch"


def test_a_relay_gets_each_event_once_in_order():
    h = run_of(20)
    first = h.since(0)
    assert len(first) == h.count == 24  # 20 batches and 4 epochs
    h.add(Progress("end", 4, 4, 5, 5, 1.0, 1000.0, {"test_accuracy": 0.9}))
    assert [e.kind for e in h.since(24)] == ["end"] and h.since(h.count) == []
