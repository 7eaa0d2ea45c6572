"""A picklable scorer for distributed engines (Ray Data, Spark, Dask), and the Ray engine itself.

:class:`StanceScorer` holds only its settings when pickled; each worker loads the
model once, on first use, and then scores whole pandas DataFrames (or Arrow
tables) at a time:

* Ray Data:  ``ds.map_batches(StanceScorer, fn_constructor_kwargs={"model": None}, batch_format="pandas",
  compute=ray.data.ActorPoolStrategy(size=2))``
* Dask:      ``ddf.map_partitions(StanceScorer(), meta=StanceScorer.meta(ddf))``
* Spark:     ``predict_batch_udf(StanceScorer.spark_predict_fn(), return_type=..., batch_size=256)``
"""
from __future__ import annotations

import json
import warnings
from typing import List, Optional, Sequence, Tuple


class StanceScorer:
    """Callable on a pandas DataFrame with an answer column (and optionally a question column).

    Adds ``label``, ``confirm``/``deny``/``hedge`` scores, ``evidence`` (JSON text) and
    ``error`` columns; rows keep their order and every row comes back.
    """

    def __init__(self, model: Optional[str] = None, text_col: str = "answer", question_col: Optional[str] = "question",
                 batch_size: int = 64, trust_pickle: bool = False):
        self.model = model
        self.text_col = text_col
        self.question_col = question_col
        self.batch_size = batch_size
        self.trust_pickle = trust_pickle  # as for load(): joblib weights from outside the package
        self._clf = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_clf"] = None  # the model is loaded again on each worker, never shipped
        return state

    @property
    def classifier(self):
        if self._clf is None:
            from .api import load

            self._clf = load(self.model, trust_pickle=getattr(self, "trust_pickle", False))
        return self._clf

    def __call__(self, batch):
        import pandas as pd

        if not isinstance(batch, pd.DataFrame):  # a pyarrow Table
            batch = batch.to_pandas()
        clf = self.classifier
        texts = batch[self.text_col].tolist()
        questions = (batch[self.question_col].tolist() if self.question_col and self.question_col in batch
                     else [None] * len(texts))
        questions = [q if isinstance(q, str) and q else None for q in questions]
        stances = clf.classify_many(texts, questions, batch_size=self.batch_size)
        out = batch.copy()
        out["label"] = pd.Series([s.label for s in stances], index=out.index, dtype="object")
        for lab in ("confirm", "deny", "hedge"):
            # float64 even when every row is an error row (NaN), as ``meta`` promises
            out[lab] = pd.Series([s.scores[lab] if s.scores else None for s in stances], index=out.index,
                                 dtype="float64")
        # object columns, as ``meta`` says (pandas 3 would infer its string dtype, None becoming NaN)
        out["evidence"] = pd.Series([json.dumps([e.__dict__ for e in s.evidence], ensure_ascii=False)
                                     for s in stances], index=out.index, dtype="object")
        out["error"] = pd.Series([s.error for s in stances], index=out.index, dtype="object")
        out["model"] = pd.Series([json.dumps(clf.model_info)] * len(out), index=out.index, dtype="object")
        return out

    @staticmethod
    def meta(frame):
        """An empty frame with the output columns (Dask's ``meta=``)."""
        import pandas as pd

        out = frame._meta.copy() if hasattr(frame, "_meta") else frame.iloc[:0].copy()
        for col, dtype in (("label", "object"), ("confirm", "float64"), ("deny", "float64"), ("hedge", "float64"),
                           ("evidence", "object"), ("error", "object"), ("model", "object")):
            out[col] = pd.Series(dtype=dtype)
        return out

    @classmethod
    def spark_predict_fn(cls, model: Optional[str] = None):
        """A ``make_predict_fn`` for ``pyspark.ml.functions.predict_batch_udf`` (answers in, labels out)."""
        def make():
            scorer = cls(model)

            def predict(answers):
                import numpy as np
                import pandas as pd

                return np.asarray(scorer(pd.DataFrame({"answer": answers}))["label"].fillna(""))
            return predict
        return make


def score_with_ray(files: Sequence[str], clf, *, ministry: Optional[str] = None, address: Optional[str] = None,
                   batch_size: int = 64, workers: int = 2) -> Tuple[List[dict], "object"]:
    """Run the scoring job on Ray Data (local Ray by default, a cluster with ``address``).

    Transcripts are parsed on the driver (cheap); answers are scored by ``workers``
    actors that each load the model once. Ray retries failed tasks; a batch that
    still fails surfaces as an exception, never as silently missing rows.
    """
    try:
        import ray
    except ImportError:
        from .scoring import ScoringError

        raise ScoringError("--engine ray needs Ray: pip install 'stancekit[ray]'") from None
    import pandas as pd

    from .scoring import Summary, _file_error_row, exchanges_of

    summary = Summary(files=len(files))
    stubs, failed = [], []
    for path in files:
        try:
            rows = exchanges_of(path, ministry)
        except Exception as exc:
            failed.append(_file_error_row(path, ministry, exc))
            continue
        for r in rows:
            r["_order"] = len(stubs)
            stubs.append(r)
    model_ref = str(clf.path) if clf.path else clf.name
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    scored: List[dict] = []
    if stubs:
        frame = pd.DataFrame(stubs)
        # several blocks, or one actor gets the whole job and the others idle
        step = max(1, min(256, -(-len(frame) // workers)))
        ds = ray.data.from_pandas([frame.iloc[i:i + step] for i in range(0, len(frame), step)])
        # the driver has loaded this very model, so the workers may load its weights too
        options = dict(fn_constructor_kwargs={"model": model_ref, "batch_size": batch_size, "trust_pickle": True},
                       batch_format="pandas", batch_size=256, compute=ray.data.ActorPoolStrategy(size=workers),
                       num_cpus=1)
        with warnings.catch_warnings():
            # a task whose actor died is retried twice, then the job fails (Ray's default retries forever);
            # newer Ray deprecates (and will drop) passing Ray remote args such as this one
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                ds = ds.map_batches(StanceScorer, max_task_retries=2, **options)
            except TypeError:
                ds = ds.map_batches(StanceScorer, **options)
        frame = ds.to_pandas().sort_values("_order")
        if len(frame) != len(stubs):
            raise RuntimeError(f"Ray returned {len(frame)} rows for {len(stubs)} answers")
        for rec in frame.to_dict("records"):
            scored.append({
                "source": rec["source"], "turn": int(rec["turn"]), "date": rec["date"], "ministry": rec["ministry"],
                "spokesperson": rec["spokesperson"], "question": rec["question"], "answer": rec["answer"],
                "label": rec["label"],
                "scores": None if rec["label"] is None else {k: float(rec[k]) for k in ("confirm", "deny", "hedge")},
                "evidence": json.loads(rec["evidence"]), "model": json.loads(rec["model"]), "error": rec["error"],
            })
    # keep the local engine's order: files in order, answers in order, failed files where they stood
    by_source = {}
    for r in scored + failed:
        by_source.setdefault(r["source"], []).append(r)
    rows = [r for path in files for r in by_source.get(path, [])]
    summary.rows = len(rows)
    summary.answers = len(scored)
    summary.answers_failed = sum(r["error"] is not None for r in scored)
    summary.files_failed = len(failed)
    summary.failed_files = [r["source"] for r in failed]
    return rows, summary
