"""Two sweep jobs drawing the same generated stimuli at once (two real processes, one stimulus cache): both get the
drawing itself and the cache ends with one copy and its checksum. The interleaving where a reader looks in at every
step of a writer's publishing is forced in-process by tests/data/test_stimulus_cache_race.py; here the processes
are real and start together, on the cheapest drawing (the blank screen): what races is the cache, not the drawing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from brainbench.data import gratings

DRAW = textwrap.dedent("""
    import hashlib, json, os, sys, time
    from pathlib import Path
    import numpy as np
    from brainbench.data import gratings

    cache, meeting = Path(sys.argv[1]), Path(sys.argv[2])
    (meeting / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(meeting.iterdir())) < 2:  # start together
        assert time.monotonic() < deadline, "the other process did not start within 60 s"
        time.sleep(0.01)
    batches = gratings.experiment_batches("blank", 8.0, 32, cache_dir=cache)
    drawn = np.concatenate([b.numpy() for b in batches]).astype(np.uint8)
    print(json.dumps(hashlib.sha256(drawn.tobytes()).hexdigest()))
""")


def test_two_processes_drawing_the_same_stimuli_at_once(home, tmp_path):
    table = gratings.experiment("blank").table
    expected = np.concatenate([b.numpy() for b in gratings.model_input_batches(table, 8.0, 32)]).astype(np.uint8)
    cache, meeting = tmp_path / "stimuli", tmp_path / "meeting"
    meeting.mkdir()
    processes = [subprocess.Popen([sys.executable, "-c", DRAW, str(cache), str(meeting)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=dict(os.environ)) for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "warning" not in err.lower(), err  # neither took the other's file for a damaged one
    assert [json.loads(out) for out, _ in outputs] == [hashlib.sha256(expected.tobytes()).hexdigest()] * 2
    name = f"blank-v{gratings.DRAWING_VERSION}-8deg-32px.npy"
    assert sorted(p.name for p in cache.iterdir()) == [name, f"{name}.json"]
