"""pandas row-wise loops vs vectorised operations, and read_csv.

A 10,000-row DataFrame with five columns: a full pass with
DataFrame.iterrows, DataFrame.itertuples, DataFrame.apply(axis=1) and
the equivalent vectorised column expression; pandas.read_csv of the same
data (~0.5 MB CSV). Skipped when pandas is not installed.
"""

from _common import scratch_dir, skip, summary, time_calls, version_of, write_results

ROWS = 10_000


def main() -> None:
    try:
        import numpy as np
        import pandas as pd
    except ImportError:
        skip(__file__, "pandas/numpy not installed")

    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "price": rng.uniform(1, 100, ROWS),
        "qty": rng.integers(1, 10, ROWS),
        "discount": rng.uniform(0, 0.3, ROWS),
        "sku": [f"SKU-{i % 500}" for i in range(ROWS)],
        "region": rng.choice(["eu", "us", "apac"], ROWS),
    })
    rows = []

    def iterrows():
        total = 0.0
        for _, row in df.iterrows():
            total += row["price"] * row["qty"] * (1 - row["discount"])
        return total

    rows.append(summary(f"DataFrame.iterrows full pass ({ROWS} rows)", time_calls(iterrows, 10, warmup=1)))

    def itertuples():
        total = 0.0
        for row in df.itertuples(index=False):
            total += row.price * row.qty * (1 - row.discount)
        return total

    rows.append(summary(f"DataFrame.itertuples full pass ({ROWS} rows)", time_calls(itertuples, 20)))
    rows.append(summary(f"DataFrame.apply(axis=1) ({ROWS} rows)",
                        time_calls(lambda: df.apply(lambda r: r["price"] * r["qty"]
                                                    * (1 - r["discount"]), axis=1), 10, warmup=1)))
    rows.append(summary(f"vectorised column expression ({ROWS} rows)",
                        time_calls(lambda: (df["price"] * df["qty"] * (1 - df["discount"])).sum(),
                                   100)))
    with scratch_dir() as tmp:
        path = f"{tmp}/orders.csv"
        df.to_csv(path, index=False)
        rows.append(summary(f"pandas.read_csv ({ROWS} rows, 5 cols)",
                            time_calls(lambda: pd.read_csv(path), 30)))
    write_results(__file__, rows, versions={"pandas": version_of("pandas"),
                                            "numpy": version_of("numpy")})


if __name__ == "__main__":
    main()
