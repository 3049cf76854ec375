# %% [markdown]
# # FactorLab from a notebook
# Register a factor, evaluate it, and read the leaderboard and its IC series as DataFrames. Each `# %%` is a cell
# (VS Code, Jupytext). Needs a running `factorlab serve` with workers: FACTORLAB_URL and FACTORLAB_TOKEN (a
# researcher's token) say where and who.

# %%
import os
import time

from factorlab_client import FactorLab, FactorLabError

lab = FactorLab(os.environ.get("FACTORLAB_URL", "http://127.0.0.1:8080"), token=os.environ.get("FACTORLAB_TOKEN"))
print(lab.me())

# %% A factor of our own (a unique code, so the notebook can run again)
code = os.environ.get("EXAMPLE_FACTOR", f"NB{int(time.time()) % 100000}")
try:
    lab.register_factor(code, "Mean($close, 5) / $close - 1", name="5-day mean reversion", category="reversal", tags=["example"])
except FactorLabError as error:
    if error.code != "duplicate_code":
        raise
lab.factors(category="reversal")

# %% Evaluate it (the workers pick the tasks up) and wait with a progress bar
start, end = os.environ.get("EXAMPLE_START", "2020-01-01"), os.environ.get("EXAMPLE_END", "2020-12-31")
job = lab.submit_job([code], start=start, end=end, universes=[os.environ.get("EXAMPLE_UNIVERSE", "csi300")],
                     horizons=[1, 5], include_drafts=True, wait=True, poll=0.5, timeout=900)
print(job["status"], job["runId"])
assert job["status"] == "SUCCESS", job

# %% The leaderboard, best Rank ICIR first
board = lab.leaderboard(top=10, horizon=5)
board[["rank", "factorCode", "universe", "horizon", "rankICMean", "rankICIR", "lsSharpe"]]

# %% The factor's daily IC and Rank IC
series = lab.series(code, run=job["runId"], horizon=5)
print(series[["ic", "rankIC"]].describe())
print("mean Rank IC", series["rankIC"].mean(), "over", len(series), "dates")

# %% Checks (this file runs in CI as a test)
assert code in set(board["factorCode"]), board
assert len(series) > 100 and series.index.is_monotonic_increasing
row = board[board["factorCode"] == code].iloc[0]
assert abs(series["rankIC"].mean() - row["rankICMean"]) < 1e-9, (series["rankIC"].mean(), row["rankICMean"])
print("example done:", code, "rank", int(row["rank"]))
