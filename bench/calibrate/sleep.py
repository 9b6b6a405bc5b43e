"""time.sleep: how long a requested sleep really takes.

For requested durations of 0, 1 ms, 10 ms and 100 ms, measures the wall
time of time.sleep(d) and reports it; the overshoot over the request is
the scheduler/timer slack on this machine. Also asyncio.sleep(0.001)
inside a running loop, for comparison.
"""

import asyncio
import time

from _common import summary, time_calls, write_results


def main() -> None:
    rows = []
    for secs, n in ((0.0, 300), (0.001, 200), (0.01, 100), (0.1, 30)):
        samples = time_calls(lambda: time.sleep(secs), n, warmup=1)
        rows.append(summary(f"time.sleep({secs:g})", samples, requested_ms=secs * 1000))

    async def run_async():
        loop_samples = []
        for _ in range(200):
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            loop_samples.append((time.perf_counter() - t0) * 1000)
        return loop_samples

    rows.append(summary("await asyncio.sleep(0.001)", asyncio.run(run_async()), requested_ms=1.0))
    write_results(__file__, rows, notes="overshoot = median - requested_ms")


if __name__ == "__main__":
    main()
