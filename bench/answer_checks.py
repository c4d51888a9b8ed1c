"""Time the rule-based answer checks: CPU time per fact on a 2,000-character answer, by kind.

Usage: python bench/answer_checks.py
"""

from __future__ import annotations

import time

from toolgym.answers import Claim, Fact, check_answer

PARA = (
    "On Thursday, March 5, you have three meetings: the Platform standup from 09:30 to 09:45, "
    "the Product sync at 11:00 and a 1:1 with Marcus at 2:00 pm. Harbor Inn costs $290 per "
    "night while the Grand Plaza is $870. The city has roughly 390,000 residents. "
)
ITEMS = {
    "time (bound)": Fact(value="09:30", kind="time", subject="standup"),
    "number (bound)": Fact(value=290, kind="number", subject="Harbor Inn"),
    "date": Fact(value="2026-03-05", kind="date"),
    "text": Fact(value="Marcus"),
    "old substring": "Grand Plaza",
}


def per_call(answer: str, required: list, forbidden: list) -> float:
    """Best of 5 rounds of 10 calls: CPU seconds per call."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(10):
            check_answer(answer, required, forbidden)
        best = min(best, (time.process_time() - start) / 10)
    return best


def main() -> None:
    answer = (PARA * 20)[:2000]
    for name, item in ITEMS.items():
        print(f"{name:<16} {per_call(answer, [item], []) * 1e3:6.2f} ms")
    claim = per_call(answer, [], [Claim(claim="success")])
    print(f"{'success claim':<16} {claim * 1e3:6.2f} ms")
    everything = per_call(answer, list(ITEMS.values()), [Claim(claim="success")])
    print(f"{'all 6 together':<16} {everything * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
