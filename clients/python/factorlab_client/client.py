"""A thin client for the FactorLab HTTP API over httpx.

Requests and replies follow the API's OpenAPI document (GET /openapi.json): field names are the API's, lists are
read page by page through ``X-Next-Cursor``, and every error becomes a ``FactorLabError`` carrying the API's error
body (``code``, ``message``, ``field``). The pandas helpers turn results, series and the leaderboard into DataFrames.
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterable, Iterator, Optional

import httpx
import pandas as pd

__all__ = ["FactorLab", "FactorLabError"]

# The key of a stored result: which run, factor version, universe, frequency, window, horizon and settings.
KEY_FIELDS = ["runId", "factorCode", "factorVersion", "universe", "frequency", "start", "end", "horizon", "settingsHash"]
TERMINAL = {"SUCCESS", "FAILED", "CANCELLED"}


class FactorLabError(Exception):
    """An error answered by the API: ``{"error": {"code", "message", "field", "status", …}}``."""

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None, body: Optional[dict] = None):
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.body = body or {}


class FactorLab:
    """A session with one FactorLab server.

    ``base_url`` defaults to ``$FACTORLAB_URL`` (else http://127.0.0.1:8080) and ``token`` to ``$FACTORLAB_TOKEN``.
    """

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 60.0,
                 transport: Optional[httpx.BaseTransport] = None):
        base_url = base_url or os.environ.get("FACTORLAB_URL", "http://127.0.0.1:8080")
        token = token or os.environ.get("FACTORLAB_TOKEN")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "FactorLab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- plumbing -------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Optional[dict] = None, json: Any = None,
                headers: Optional[dict] = None) -> httpx.Response:
        """Sends one request; raises ``FactorLabError`` for any 4xx/5xx answer."""
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        response = self._http.request(method, path, params=clean, json=json, headers=headers)
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            raise FactorLabError(response.status_code, error.get("code", "error"), error.get("message", response.text),
                                 error.get("field"), error)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a reply (None for 204 and 304)."""
        response = self.request(method, path, **kwargs)
        return response.json() if response.content and response.status_code not in (204, 304) else None

    def pages(self, path: str, params: Optional[dict] = None, page_size: int = 500) -> Iterator[Any]:
        """Every item of a list route, following ``X-Next-Cursor`` page by page."""
        params = dict(params or {}, limit=page_size)
        seen = set()
        while True:
            response = self.request("GET", path, params=params)
            yield from response.json()
            cursor = response.headers.get("X-Next-Cursor")
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            params["cursor"] = cursor

    def me(self) -> dict:
        return self.call("GET", "/me")

    # ---- factors --------------------------------------------------------------------------------------------------

    def factors(self, *, category: Optional[str] = None, status: Optional[str] = None, owner: Optional[str] = None,
                tag: Optional[str] = None) -> pd.DataFrame:
        """The catalogue as a DataFrame indexed by code."""
        rows = list(self.pages("/factors", {"category": category, "status": status, "owner": owner, "tag": tag}))
        frame = pd.DataFrame(rows, columns=["code", "name", "category", "owner", "status", "latestVersion", "tags",
                                            "description", "createdAt", "updatedAt"])
        return frame.set_index("code")

    def factor(self, code: str) -> dict:
        """A factor with its versions and its ETag (``etag``), for conditional changes."""
        response = self.request("GET", f"/factors/{code}")
        detail = response.json()
        detail["etag"] = response.headers.get("ETag")
        return detail

    def register_factor(self, code: str, expression: str, *, name: Optional[str] = None, category: Optional[str] = None,
                        tags: Optional[Iterable[str]] = None, description: Optional[str] = None,
                        kind: Optional[str] = None) -> dict:
        body = {"code": code, "expression": expression, "name": name, "category": category,
                "tags": list(tags) if tags is not None else None, "description": description, "kind": kind}
        return self.call("POST", "/factors", json={k: v for k, v in body.items() if v is not None})

    def update_factor(self, code: str, expression: str, *, note: str = "", if_match: Optional[str] = None) -> dict:
        """A new version; ``if_match`` (an ETag from ``factor()``) refuses it with 412 if the factor changed since."""
        return self.call("PATCH", f"/factors/{code}", json={"expression": expression, "note": note},
                         headers={"If-Match": if_match} if if_match else None)

    def submit_review(self, code: str) -> dict:
        return self.call("POST", f"/factors/{code}/submit-review")

    def approve(self, code: str) -> dict:
        return self.call("POST", f"/factors/{code}/approve")

    def deprecate(self, code: str) -> dict:
        return self.call("POST", f"/factors/{code}/deprecate")

    def validate_expression(self, expression: str) -> dict:
        return self.call("POST", "/expressions/validate", json={"expression": expression})

    # ---- jobs -----------------------------------------------------------------------------------------------------

    def submit_job(self, factors: Optional[Iterable[str]] = None, *, start: Optional[str] = None, end: Optional[str] = None,
                   category: Optional[str] = None, all_approved: bool = False, include_drafts: bool = False,
                   universes: Optional[Iterable[str]] = None, horizons: Optional[Iterable[int]] = None,
                   frequencies: Optional[Iterable[str]] = None, wait: bool = False, progress: bool = True,
                   poll: float = 1.0, timeout: Optional[float] = None, **options: Any) -> dict:
        """Submits a job; with ``wait=True`` follows it to its end with a progress bar (tqdm) and returns the finished
        job. ``options`` are the API's other fields in snake_case (``batch_size``, ``idempotency_key``, ``neutralize`` …).
        """
        body: dict = {"factors": list(factors) if factors is not None else None, "category": category,
                      "allApproved": all_approved or None, "includeDrafts": include_drafts or None, "start": start, "end": end,
                      "universes": list(universes) if universes is not None else None,
                      "horizons": list(horizons) if horizons is not None else None,
                      "frequencies": list(frequencies) if frequencies is not None else None}
        body.update({_camel(k): v for k, v in options.items()})
        submitted = self.call("POST", "/jobs", json={k: v for k, v in body.items() if v is not None})
        job = submitted["job"]
        if not wait:
            return job
        return self.wait(job["id"], progress=progress, poll=poll, timeout=timeout)

    def wait(self, job_id: str, *, progress: bool = True, poll: float = 1.0, timeout: Optional[float] = None) -> dict:
        """Polls a job until it ends; a tqdm bar counts its finished tasks. Returns the job record."""
        from tqdm.auto import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        try:
            while True:
                detail = self.call("GET", f"/jobs/{job_id}", params={"top": 1})
                tasks = detail["tasks"]
                done = sum(t["status"] in TERMINAL for t in tasks)
                if progress:
                    if bar is None:
                        bar = tqdm(total=len(tasks), desc=f"job {job_id[:8]}", unit="task")
                    bar.update(done - bar.n)
                    bar.set_postfix_str(detail["job"]["status"])
                if detail["job"]["status"] in TERMINAL:
                    return detail["job"]
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"job {job_id} is still {detail['job']['status']} after {timeout} s")
                time.sleep(poll)
        finally:
            if bar is not None:
                bar.close()

    def job(self, job_id: str, top: int = 10) -> dict:
        return self.call("GET", f"/jobs/{job_id}", params={"top": top})

    def jobs(self, status: Optional[str] = None) -> pd.DataFrame:
        return pd.DataFrame(list(self.pages("/jobs", {"status": status})))

    def cancel_job(self, job_id: str) -> dict:
        return self.call("POST", f"/jobs/{job_id}/cancel")

    # ---- results --------------------------------------------------------------------------------------------------

    def results(self, factor: Optional[str] = None, *, run: Optional[str] = None, universe: Optional[str] = None,
                freq: Optional[str] = None, horizon: Optional[int] = None, start: Optional[str] = None,
                end: Optional[str] = None) -> pd.DataFrame:
        """Stored results, one row each: the key's fields as columns, then the figures (NaN where undefined)."""
        rows = self.pages("/results", {"factor": factor, "run": run, "universe": universe, "freq": freq, "horizon": horizon,
                                       "from": start, "to": end})
        return _results_frame(list(rows))

    def leaderboard(self, top: int = 10, by: str = "rank_icir", *, universe: Optional[str] = None,
                    freq: Optional[str] = None, horizon: Optional[int] = None, settings: Optional[str] = None) -> pd.DataFrame:
        """Each factor's latest result, best first by ``by``."""
        rows = self.call("GET", "/leaderboard", params={"top": top, "by": by, "universe": universe, "freq": freq,
                                                         "horizon": horizon, "settings": settings})
        frame = _results_frame(rows)
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame

    def series(self, factor: str, *, run: Optional[str] = None, universe: Optional[str] = None, freq: Optional[str] = None,
               horizon: Optional[int] = None, result: Optional[dict] = None) -> pd.DataFrame:
        """One result's per-date series (ic, rankIC, longShort, turnover, coverage) indexed by date. Without ``result``,
        the newest stored result of ``factor`` matching the filters."""
        if result is None:
            candidates = self.results(factor, run=run, universe=universe, freq=freq, horizon=horizon)
            candidates = candidates[candidates["error"].isna()] if "error" in candidates else candidates
            if candidates.empty:
                raise FactorLabError(404, "not_found", f"no stored result of {factor} matches", None)
            key = candidates.sort_values("createdAt").iloc[-1][KEY_FIELDS].to_dict()
        else:
            key = result.get("key", result)
        params = {"run": key["runId"], "factor": key["factorCode"], "version": int(key["factorVersion"]),
                  "universe": key["universe"], "freq": key["frequency"], "start": key["start"], "end": key["end"],
                  "horizon": int(key["horizon"]), "settings": key["settingsHash"]}
        frame = pd.DataFrame(list(self.pages("/results/series", params)))
        if frame.empty:
            return frame
        frame["date"] = pd.to_datetime(frame["date"])
        return frame.set_index("date").astype({c: "float64" for c in ("ic", "rankIC", "longShort") if c in frame})

    def events(self, after: int = 0, job: Optional[str] = None, limit: int = 100) -> list:
        """Stored events after ``after`` (a JSON page of the live stream's log)."""
        return self.call("GET", "/events", params={"after": after, "job": job, "limit": limit})

    def all_events(self, job: Optional[str] = None) -> pd.DataFrame:
        """Every stored event (of one job), oldest first, with its JSON body parsed."""
        import json

        rows = list(self.pages("/events", {"job": job}))
        frame = pd.DataFrame(rows, columns=["id", "kind", "jobId", "body", "createdAt"])
        frame["body"] = frame["body"].map(json.loads)
        return frame.set_index("id")


def _results_frame(rows: list) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=KEY_FIELDS)
    frame = pd.json_normalize(rows, max_level=1)
    frame.columns = [c[4:] if c.startswith("key.") else c for c in frame.columns]
    figures = [c for c in frame.columns if c not in KEY_FIELDS]
    frame = frame[KEY_FIELDS + figures]
    for column in ("icMean", "icir", "rankICMean", "rankICIR", "rankICT", "lsSharpe", "lsAnnReturn", "turnoverTop", "autocorr"):
        if column in frame:
            frame[column] = frame[column].astype("float64")
    return frame


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
