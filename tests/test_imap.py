"""Pure helpers of imap.py: UID chunks, fetch plans and batches."""

from __future__ import annotations

from mailbot.imap import batches, chunks, plan_fetches


def test_chunks_and_batches_bound_count_and_bytes():
    assert [len(c) for c in chunks(list(range(2500)))] == [1000, 1000, 500]
    assert chunks([5, 1, 3], 2) == [[1, 3], [5]]
    sizes = {1: 10, 2: 10, 3: 40, 4: 10}
    assert batches(sizes, max_count=2, max_bytes=100) == [[1, 2], [3, 4]]
    assert batches(sizes, max_count=10, max_bytes=25) == [[1, 2], [3], [4]]


def test_oversized_messages_get_header_only_batches_in_uid_order():
    plan = plan_fetches({1: 10, 2: 100, 3: 10, 4: 10, 5: 200}, 2, 50)
    assert plan == [([1], "whole"), ([2], "header"), ([3, 4], "whole"), ([5], "header")]
    assert [uid for batch, _ in plan for uid in batch] == [1, 2, 3, 4, 5]


def test_large_messages_are_spooled_alone_and_oversized_ones_stay_header_only():
    plan = plan_fetches({1: 10, 2: 30, 3: 10, 4: 10, 5: 200, 6: 25}, 3, 50, spool_size=20)
    assert plan == [([1], "whole"), ([2], "spool"), ([3, 4], "whole"), ([5], "header"),
                    ([6], "spool")]
