"""Executor / pool construction cost vs reuse.

Measures creating an executor, running one trivial task and shutting it
down (the per-request anti-pattern) for ThreadPoolExecutor,
ProcessPoolExecutor, multiprocessing.Pool and multiprocessing.pool.ThreadPool,
against submitting the same task to an executor that already exists.
"""

import concurrent.futures as cf
import multiprocessing
import multiprocessing.pool

from _common import summary, time_calls, write_results


def task(x=1):
    return x + 1


def main() -> None:
    rows = []

    def tpe_once():
        with cf.ThreadPoolExecutor(max_workers=4) as ex:
            ex.submit(task).result()

    rows.append(summary("ThreadPoolExecutor(4) + 1 task + shutdown", time_calls(tpe_once, 200)))

    def tpe_map8():
        with cf.ThreadPoolExecutor(max_workers=8) as ex:
            list(ex.map(task, range(8)))

    rows.append(summary("ThreadPoolExecutor(8) + map 8 tasks + shutdown",
                        time_calls(tpe_map8, 200)))

    shared = cf.ThreadPoolExecutor(max_workers=4)
    rows.append(summary("ThreadPoolExecutor.submit + result (reused pool)",
                        time_calls(lambda: shared.submit(task).result(), 500)))
    shared.shutdown()

    def ppe_once():
        with cf.ProcessPoolExecutor(max_workers=2) as ex:
            ex.submit(task).result()

    rows.append(summary("ProcessPoolExecutor(2) + 1 task + shutdown (fork)",
                        time_calls(ppe_once, 30)))

    spawn = multiprocessing.get_context("spawn")

    def ppe_spawn_once():
        with cf.ProcessPoolExecutor(max_workers=2, mp_context=spawn) as ex:
            ex.submit(task).result()

    rows.append(summary("ProcessPoolExecutor(2) + 1 task + shutdown (spawn)",
                        time_calls(ppe_spawn_once, 10, warmup=1)))

    pshared = cf.ProcessPoolExecutor(max_workers=2)
    rows.append(summary("ProcessPoolExecutor.submit + result (reused pool)",
                        time_calls(lambda: pshared.submit(task).result(), 300)))
    pshared.shutdown()

    def mp_pool_once():
        with multiprocessing.Pool(2) as p:
            p.apply(task)

    rows.append(summary("multiprocessing.Pool(2) + apply + terminate (fork)",
                        time_calls(mp_pool_once, 30)))

    def thread_pool_once():
        with multiprocessing.pool.ThreadPool(4) as p:
            p.apply(task)

    rows.append(summary("multiprocessing.pool.ThreadPool(4) + apply + terminate",
                        time_calls(thread_pool_once, 100)))

    write_results(__file__, rows,
                  notes=f"default start method: {multiprocessing.get_start_method()}")


if __name__ == "__main__":
    main()
