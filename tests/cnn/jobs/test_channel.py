"""cnn.jobs.channel: typed, versioned messages at every process boundary; what cannot be understood is said in
words (a ChannelError), never an assert deep in an engine."""
import socket
import sys
from multiprocessing.connection import Connection

import pytest

from cnn.jobs import channel, local
from cnn.jobs.channel import Channel, ChannelError, Failed, Ready, Reported, Started
from cnn.run_results import Progress


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    # each end names who is at the other end
    ends = Channel(Connection(a.detach()), "a training worker"), Channel(Connection(b.detach()), "the test's server")
    yield ends
    for end in ends:
        end.close()


def test_messages_arrive_typed_and_whole(pair):
    server, worker = pair
    event = Progress("batch", 1, 2, 3, 10, 0.5, 900.0, {"loss": 0.4})
    worker.send(Ready(1234, "CPU (2 cores)"))
    worker.send(Reported("job1", event))
    assert server.expect(Ready) == Ready(1234, "CPU (2 cores)")
    assert server.recv() == Reported("job1", event)


def test_an_old_or_other_versions_message_is_a_clear_error(pair, monkeypatch):
    server, worker = pair
    worker.conn.send(("ready", 1234, "CPU"))  # what a worker of the last version said
    with pytest.raises(ChannelError, match="a training worker sent 'ready', not a message of protocol 1"):
        server.recv()
    monkeypatch.setattr(channel, "PROTOCOL", 2)
    worker.send(Ready(1, "CPU"))  # stamped 2
    monkeypatch.setattr(channel, "PROTOCOL", 1)
    with pytest.raises(ChannelError, match="speaks protocol 2, this server 1"):
        server.recv()


def test_a_message_of_the_wrong_kind_is_named(pair):
    server, worker = pair
    worker.send(Failed("job1", "boom"))
    with pytest.raises(ChannelError, match="sent Failed where Ready was expected"):
        server.expect(Ready)
    worker.send(Started("job1"))
    with pytest.raises(ChannelError, match="Started where Reported or Failed was expected"):
        server.expect(Reported, Failed)


def test_an_unreadable_message_is_a_clear_error(pair):
    server, worker = pair
    worker.conn.send_bytes(b"\x80\x05not a pickle")
    with pytest.raises(ChannelError, match=r"could not be read .* same version of CNN Lab"):
        server.recv()


def test_a_worker_of_another_version_ends_its_run_with_words_not_an_assert(monkeypatch):
    """The engine starts a worker that greets it as the last version did: the run ends with the reason."""
    from cnn.jobs import JobRequest
    from cnn.run_config import TrainConfig

    from conftest import tiny_dataset

    old = ("import os; from multiprocessing.connection import Connection; "
           "Connection(int(os.environ['CNN_WORKER_FD'])).send(('ready', os.getpid(), 'CPU')); import time; "
           "time.sleep(30)")
    monkeypatch.setattr(local._Worker, "command", (sys.executable, "-c", old))
    engine = local.LocalEngine(limit=1, heartbeat_timeout=600, prestart=False)
    try:
        job = engine.submit(JobRequest(TrainConfig(epochs=1), tiny_dataset(n_train=64, n_test=8), label="old"))
        assert job.wait(60) and job.state == "error"
        assert "sent 'ready', not a message of protocol 1" in job.message and "Restart the server" in job.message
    finally:
        engine.shutdown(grace_s=1)
