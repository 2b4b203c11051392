"""Progress on stderr: a bounded number of lines in a log, counts, rates and tokens/s."""

import io
import re
import subprocess
import sys

from radis.core import progress
from radis.generate.backend import GenerationConfig
from radis.generate.hf import HFBackend
from radis.generate.shards import ShardedBackend

LINE = re.compile(r"^(.+?): +(\d+)% (\d+)/(\d+) \[.+<.+, .+/s(, .+)?\]$")


def lines(text: str, desc: str) -> list[re.Match]:
    """The progress lines of ``desc`` in ``text``, parsed."""
    found = [LINE.match(line) for line in text.splitlines() if line.startswith(f"{desc}:")]
    assert all(found), text
    return found


def test_a_log_gets_a_line_every_5_percent_and_one_at_the_end(capsys):
    with progress.bar(1000, "demo", "prompt") as bar:
        for _ in range(999):
            bar.update(1, tokens=3, loss=0.25)
    shown = lines(capsys.readouterr().err, "demo")
    assert len(shown) == 21  # 0 %, 5 %, ..., 95 %, and the end (999, not 100 %)
    assert [int(m[3]) for m in shown[:3]] == [1, 50, 100]
    assert shown[-1][3] == "999" and shown[-1][4] == "1000"
    assert "prompt/s" in shown[-1][0] and "loss 0.25" in shown[-1][0]
    assert re.search(r"[\d,]+ tok/s", shown[-1][0])


def test_a_long_loop_writes_at_most_22_lines(capsys):
    with progress.bar(100_000, "long") as bar:
        for _ in range(100_000):
            bar.update()
    shown = lines(capsys.readouterr().err, "long")
    assert len(shown) == 21 and shown[-1][2] == "100" and shown[-1][3] == "100000"


def test_a_hidden_bar_writes_nothing(capsys):
    with progress.bar(10, "quiet", show=False) as bar:
        bar.update(5, tokens=10, loss=1.0)
    assert capsys.readouterr().err == ""


def test_an_inner_loop_counts_on_the_open_bar_and_skipped_items_are_not_in_the_rate(capsys):
    with progress.bar(10, "outer", "prompt") as outer:
        outer.skip(4)
        with progress.shared(6, "inner") as inner:
            assert inner is outer
            inner.update(3, tokens=30)
        outer.reach(10, 60)
        assert outer.bar.n == 10 and outer.tokens == 60 and outer.bar.initial == 4
    shown = lines(capsys.readouterr().err, "outer")
    assert shown[-1][3] == "10" and not lines(capsys.readouterr().err, "inner")


def test_a_terminal_gets_tqdm_itself(monkeypatch):
    monkeypatch.setattr(progress, "interactive", lambda: True)
    assert progress.tqdm_class() is progress.tqdm
    monkeypatch.setattr(progress, "interactive", lambda: False)
    assert progress.tqdm_class() is progress.LineBar


def test_generation_counts_prompts_and_generated_tokens(model_dir, tmp_path, capsys):
    backend = ShardedBackend(HFBackend(model_dir), tmp_path / "work@x", 3, "fp")
    prompts = [f"Say {w}." for w in ("cat", "dog", "red cat", "a", "b", "c", "d")]
    outs = backend.generate(prompts, GenerationConfig(max_new_tokens=4, batch_tokens=16))
    shown = lines(capsys.readouterr().err, "work@x")
    assert shown[-1][3] == shown[-1][4] == "7"
    assert len(shown) <= 8  # a batch of the tiny budget holds at most 2 prompts: 4+ updates
    tokens = sum(o.completion_tokens for o in outs)
    assert tokens > 0 and "tok/s" in shown[-1][0]


CHILD = r"""
import sys, time
err = sys.stderr
err.write("Some warning\n")
for i in range(201):
    err.write(f"\rPredicting DataLoader 0: {i // 2:3d}%|####| {i}/200 [00:01<00:00, 9.0it/s]")
    err.flush()
err.write("\nlast words\n")
"""


def test_relay_passes_a_childs_bar_on_as_lines_and_keeps_the_rest():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stderr=subprocess.PIPE)
    out = io.StringIO()
    tail = progress.relay(proc.stderr, out)
    proc.wait()
    shown = out.getvalue().splitlines()
    assert 20 <= len(shown) <= 22 and all("Predicting" in line for line in shown)
    assert "200/200" in shown[-1]
    assert tail == ["Some warning", "last words"]
