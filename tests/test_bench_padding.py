"""bench/padding.py: the padding share of processed tokens, on hand-made lengths."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import padding  # noqa: E402

from radis.train.loop import TrainConfig, token_counts  # noqa: E402


def test_token_counts_pad_each_micro_batch_to_its_longest_row():
    # [5, 3] -> 2 x 5 = 10 processed; [8, 2] -> 2 x 8 = 16; real 5 + 3 + 8 + 2 = 18.
    assert token_counts([5, 3, 8, 2], [[0, 1], [2, 3]]) == (18, 26)
    assert token_counts([5, 3, 8, 2], [[0], [1, 2, 3]]) == (18, 5 + 3 * 8)


def test_padding_share_of_one_sorted_step():
    # One step of all four rows, sorted by length: [8, 5] and [3, 2] -> 16 + 6 = 22 processed,
    # 18 real, so 4 of 22 tokens are padding, whatever the seeded order.
    for seed in range(3):
        cfg = TrainConfig(batch_size=4, micro_batch_size=2, length_window=1, seed=seed)
        assert padding.padding_share([5, 3, 8, 2], cfg) == pytest.approx(4 / 22)


def test_padding_share_length_window_sorts_across_steps():
    # Two steps of two rows. Window 2 sorts all four rows together: [9, 9] and [1, 1], no
    # padding. Window 1 pairs rows at random: either the same or two [9, 1] steps, which
    # process 4 x 9 = 36 tokens for 20 real ones.
    lengths = [9, 1, 9, 1]
    for seed in range(4):
        cfg = TrainConfig(batch_size=2, micro_batch_size=2, length_window=2, seed=seed)
        assert padding.padding_share(lengths, cfg) == 0.0
    shares = set()
    for seed in range(8):
        cfg = TrainConfig(batch_size=2, micro_batch_size=2, length_window=1, seed=seed)
        shares.add(round(padding.padding_share(lengths, cfg), 6))
    assert shares == {0.0, round(16 / 36, 6)}


def test_paper_lengths_are_seeded_and_capped():
    a = padding.paper_lengths(2000, 0, 1024)
    assert a == padding.paper_lengths(2000, 0, 1024)
    assert all(r > v for v, r in zip(a["vanilla"], a["radis"]))
    assert max(padding.paper_lengths(2000, 0, 300)["radis"]) == 300
    vanilla = sorted(a["vanilla"])
    assert 120 < vanilla[1000] < 170  # median: prompt ~100 + reference ~40
