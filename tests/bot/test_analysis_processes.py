"""The App's analysis processes: work runs in another process, a dead process fails only its own
analysis, and a stop cuts what runs at once."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from bot.analysis import AnalysisError, AnalysisProcesses
from rules.engine import ConfigError


def die() -> None:
    os._exit(1)  # as the kernel's OOM killer leaves it: no exception, no clean-up


def refuse() -> None:
    raise ConfigError("pyproject.toml: [tool.debtbot] select: 'DEBT999' matches no rule")


@pytest.fixture
def processes():
    pool = AnalysisProcesses(2)
    yield pool
    pool.stop()


def test_work_runs_in_another_process_and_its_errors_come_back(processes):
    assert processes.run(os.getpid) != os.getpid()
    assert processes.run(sum, [1, 2, 3]) == 6
    with pytest.raises(ConfigError, match="DEBT999"):
        processes.run(refuse)


def test_a_process_that_dies_fails_its_analysis_and_the_next_one_runs(processes):
    with pytest.raises(AnalysisError, match="died"):
        processes.run(die)
    assert processes.run(sum, [2, 2]) == 4


def test_a_stop_cuts_what_runs_and_leaves_no_process(processes):
    outcome: list[BaseException] = []

    def analyse() -> None:
        try:
            processes.run(time.sleep, 60)
        except BaseException as error:  # what the job's thread sees
            outcome.append(error)

    caller = threading.Thread(target=analyse)
    caller.start()
    deadline = time.monotonic() + 30
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the sleep has started in the child

    stopped_at = time.monotonic()
    processes.stop()
    caller.join(5)

    assert not caller.is_alive() and time.monotonic() - stopped_at < 2
    assert len(outcome) == 1 and isinstance(outcome[0], AnalysisError)
    assert "stopping" in str(outcome[0])
    assert not multiprocessing.active_children()
    with pytest.raises(AnalysisError, match="stopping"):
        processes.run(sum, [1])
