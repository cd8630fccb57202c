"""`brainbench.cli.main._leave`: a process that loaded torch exits without the interpreter's teardown, yet keeps
the exit code, flushes what it printed and runs its exit handlers; with another live thread it exits as usual."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(body: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_torch_process_keeps_code_output_and_exit_handlers():
    done = _run("""
        import atexit, sys, torch
        from brainbench.cli.main import _leave
        atexit.register(lambda: print("handler ran"))
        print("buffered", end="")
        sys.stderr.write("on stderr")
        _leave(3)
        print("never")
    """)
    assert done.returncode == 3
    assert done.stdout == "bufferedhandler ran\n"
    assert done.stderr == "on stderr"


def test_none_is_success_and_a_text_code_exits_as_python_does():
    assert _run("import torch\nfrom brainbench.cli.main import _leave\n_leave(None)").returncode == 0
    text = _run("import torch\nfrom brainbench.cli.main import _leave\n_leave('one sentence')")
    assert text.returncode == 1 and text.stderr.strip() == "one sentence"


def test_a_live_thread_is_waited_for():
    # The usual exit joins non-daemon threads: the thread's line must appear after the main thread's exit.
    done = _run("""
        import threading, time, torch
        from brainbench.cli.main import _leave
        threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished", flush=True))).start()
        _leave(0)
    """)
    assert done.returncode == 0 and "thread finished" in done.stdout
