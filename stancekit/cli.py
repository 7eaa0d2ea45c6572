"""The ``stancekit`` command line: thin, it parses options and calls the library.

Exit codes: 0 every row done; 3 finished with some error rows; 2 the input
cannot be used at all, or a usage error (one-line message, never a traceback);
1 a distributed job failed after its retries (nothing written).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_ROW_ERRORS = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command line or its input: exit 2 with a one-line message."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stancekit", description="Tag government press statements as confirm / deny / hedge.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("classify", help="label the statements in a file (or - for stdin)")
    c.add_argument("path", metavar="PATH|-", help=".txt (one statement per line), .jsonl or .csv; - reads stdin")
    c.add_argument("--format", choices=("table", "jsonl", "csv"),
                   help="output format (default: table on a terminal, jsonl when piped)")
    c.add_argument("--input-format", choices=("auto", "txt", "jsonl", "csv"), default="auto",
                   help="input format (default: from the file extension; txt for stdin)")
    c.add_argument("--text-col", help="CSV column holding the statement (default: answer or text)")
    c.add_argument("--question-col", help="CSV column holding the question (default: question, if present)")
    c.add_argument("--encoding", help="input encoding (default: UTF-8; BOMs are honoured)")
    c.add_argument("-o", "--output", help="write here instead of stdout")
    _model_options(c)
    c.add_argument("--batch-size", type=int, default=64, help="statements per model batch (default 64)")

    e = sub.add_parser("eval", help="score a model on labelled JSONL data")
    e.add_argument("data", nargs="+", help="JSONL with answer (or text), optional question, and label")
    e.add_argument("--where", action="append", default=[], metavar="FIELD=VALUE",
                   help="keep rows whose FIELD equals VALUE (repeatable), e.g. split=dev")
    e.add_argument("--group-by", metavar="FIELD",
                   help="add per-group figures (e.g. ministry; 'group' = China MFA vs other)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    _model_options(e)

    s = sub.add_parser("score", help="score every answer in briefing transcripts (files, folders, globs, -)")
    s.add_argument("paths", nargs="+", metavar="PATH", help="transcript files, folders (recursive), globs, or -")
    s.add_argument("--out", required=True, help="output file: .parquet, .csv or .jsonl")
    s.add_argument("--ministry", help="ministry to record when the transcript does not say")
    s.add_argument("--resume", action="store_true", help="continue an interrupted run into the same --out")
    s.add_argument("--engine", choices=("local", "ray"), default="local", help="run locally or on Ray Data")
    s.add_argument("--address", help="Ray cluster address (default: a local Ray)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_options(s)

    r = sub.add_parser("report", help="write an HTML report (charts, phrasings, hedged answers) of a scores file")
    r.add_argument("scores", help="a file written by `stancekit score`")
    r.add_argument("--out", required=True, help="the .html file to write")
    r.add_argument("--title", help="page title")

    t = sub.add_parser("train", help="train a model on labelled JSONL data and write a model folder")
    t.add_argument("data", nargs="+", help="labelled JSONL files")
    t.add_argument("--out", required=True, help="model folder to write")
    t.add_argument("--backend", choices=("tfidf", "transformer"), default="transformer")
    t.add_argument("--where", action="append", default=[], metavar="FIELD=VALUE",
                   help="keep only matching rows (repeatable), e.g. split=train")
    t.add_argument("--name", help="model name (default: the folder name)")
    t.add_argument("--version", dest="model_version", default="0.1.0", help="model version")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=6, help="transformer: most epochs (early stopping decides)")
    t.add_argument("--learning-rate", type=float, default=6e-5, help="transformer: peak learning rate")
    t.add_argument("--max-length", type=int, default=256, help="transformer: tokens per window")
    t.add_argument("--no-question", action="store_true", help="transformer: read the answer alone")
    t.add_argument("--repeat", action="append", default=[], metavar="FILENAME=K",
                   help="transformer: repeat the training rows of this data file K times (weighting)")
    t.add_argument("--ship", metavar="DIR", help="transformer: also write the inference-only folder (ONNX int8) here")
    return p


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="shipped model name or model folder (default: the shipped default; 'rules' for cue rules)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow joblib/pickle weights from outside the installed package (they can run code)")


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"stancekit {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        commands = {"classify": _classify, "eval": _eval, "train": _train, "score": _score, "report": _report}
        return commands[args.command](args)
    except UsageError as exc:
        print(f"stancekit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stancekit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # reader went away (e.g. `| head`): stop quietly
        sys.stderr.close()
        return EXIT_OK


def _load_model(args):
    from .api import load
    from .modelio import ModelError

    try:
        return load(args.model, trust_pickle=args.trust_pickle)
    except ModelError as exc:
        raise UsageError(str(exc)) from None


def _classify(args) -> int:
    from .readers import InputError, read_rows
    from .writers import Writer

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    clf = _load_model(args)
    if args.path != "-":
        # a whole-file problem (undecodable bytes, NUL data) must stop the run before any output
        from .readers import read_lines

        try:
            for _ in read_lines(args.path, args.encoding):
                pass
        except InputError as exc:
            raise UsageError(str(exc)) from None
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "jsonl")
    rows = read_rows(args.path, args.input_format, text_col=args.text_col, question_col=args.question_col,
                     encoding=args.encoding)
    out, tmp = _open_output(args.output)
    writer = Writer(out, fmt)
    counts = {"rows": 0, "errors": 0}
    done = False
    try:
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= args.batch_size * 4:
                _emit(clf, chunk, writer, counts, args.batch_size)
                chunk = []
        _emit(clf, chunk, writer, counts, args.batch_size)
        if counts["rows"] == 0:
            raise UsageError(f"{args.path}: no statements to classify (only blank lines)")
        done = True
    except InputError as exc:
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:  # full disk, device gone: say so; a partial -o file is not left behind
        raise UsageError(f"{args.output or 'stdout'}: cannot write output ({exc.strerror or exc})") from None
    finally:
        _close_output(out, tmp, args.output, keep=done)
    if counts["errors"]:
        print(f"stancekit: {counts['rows']} rows, {counts['errors']} could not be classified (see their 'error' field)",
              file=sys.stderr)
        return EXIT_ROW_ERRORS
    return EXIT_OK


def _emit(clf, chunk, writer, counts, batch_size) -> None:
    from .labels import Stance
    from .writers import output_row

    todo = [r for r in chunk if r.error is None]
    stances = iter(clf.classify_many([r.text for r in todo], [r.question for r in todo], batch_size=batch_size))
    for row in chunk:
        stance = Stance(None, None, error=row.error) if row.error else next(stances)
        if stance.error and row.error is None:
            stance.error = f"line {row.line}: {stance.error}"
        writer.write(output_row(row.id, stance, clf.model_info))
        counts["rows"] += 1
        counts["errors"] += stance.error is not None
    writer.flush()


def _open_output(path: Optional[str]):
    """``(stream, temporary path)``: a regular file is written beside its target and renamed into
    place at the end, so a failed run never leaves a half-written file; stdout and devices
    (``/dev/null``) are written directly."""
    if not path:
        return sys.stdout, None
    target = Path(path)
    direct = target.exists() and not target.is_file()
    tmp = None if direct else target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        return open(tmp or target, "w", encoding="utf-8", newline=""), tmp
    except OSError as exc:
        raise UsageError(f"{path}: cannot write output ({exc.strerror or exc})") from None


def _close_output(out, tmp: Optional[Path], path: Optional[str], keep: bool) -> None:
    if out is sys.stdout:
        return
    try:
        out.close()
        if tmp is not None and keep:
            os.replace(tmp, path)
    except OSError as exc:
        if keep:
            raise UsageError(f"{path}: cannot write output ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _eval_rows(args):
    from .data import DataError, parse_where, read_labelled

    try:
        where = parse_where(args.where)
        rows = []
        for path in args.data:
            if not Path(path).is_file():
                raise UsageError(f"{path}: no such file")
            rows.extend(read_labelled(Path(path), where))
    except (DataError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not rows:
        raise UsageError("no rows matched" + (f" --where {' '.join(args.where)}" if args.where else ""))
    return rows


def _eval(args) -> int:
    from .data import field_value, texts_of
    from .evaluate import format_report, grouped_scores

    rows = _eval_rows(args)
    clf = _load_model(args)
    answers, questions, labels = texts_of(rows)
    stances = clf.classify_many(answers, questions)
    failed = [(r, s) for r, s in zip(rows, stances) if s.error]
    # an unclassifiable row counts as wrong: it is scored as no label
    preds = [s.label or "none" for s in stances]
    groups = [field_value(r, args.group_by) or "(none)" for r in rows] if args.group_by else None
    result = grouped_scores(labels, preds, groups)
    result["model"] = clf.model_info
    result["unclassified"] = len(failed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        title = f"model {clf.name} v{clf.version} on {len(rows)} rows" + (
            f" where {' '.join(args.where)}" if args.where else "")
        print(format_report(result, title))
        if failed:
            print(f"\n{len(failed)} rows could not be classified, e.g. line {failed[0][0]['_line']}: {failed[0][1].error}")
    return EXIT_OK


def _train(args) -> int:
    from .data import DataError, parse_where
    from .train import load_training_rows, train_tfidf, training_record

    try:
        where = parse_where(args.where)
        files = [Path(p) for p in args.data]
        for f in files:
            if not f.is_file():
                raise UsageError(f"{f}: no such file")
        if args.backend == "tfidf":
            out = train_tfidf(files, Path(args.out), where=where, name=args.name, version=args.model_version,
                              seed=args.seed)
        else:
            try:
                from .finetune import Recipe, ship, train_transformer
            except ImportError as exc:
                raise UsageError(f"transformer training needs the [train] extra ({exc})") from None
            rows, per_file = load_training_rows(files, where)
            repeats = {}
            for item in args.repeat:
                name, sep, k = item.rpartition("=")
                if not sep or not k.isdigit() or int(k) < 1:
                    raise UsageError(f"--repeat expects FILENAME=K with K >= 1, got {item!r}")
                repeats[Path(name).name] = int(k)
            recipe = Recipe(seed=args.seed, max_epochs=args.epochs, learning_rate=args.learning_rate,
                            max_length=args.max_length, use_question=not args.no_question, file_repeats=repeats)
            out = train_transformer(rows, Path(args.out), recipe, name=args.name, version=args.model_version,
                                    training_record=training_record(files, where, per_file, args.seed))
            if args.ship:
                print(f"wrote {ship(out, Path(args.ship))}")
    except (DataError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {out}")
    return EXIT_OK


def _score(args) -> int:
    from .scoring import ScoringError, discover, exchanges_of, score

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.resume and args.engine == "ray":
        raise UsageError("--resume works with the local engine only (a Ray job is all-or-nothing)")
    clf = _load_model(args)
    bar = None
    if not args.quiet and sys.stderr.isatty() and args.engine == "local":
        from tqdm import tqdm

        try:
            total = sum(len(exchanges_of(p, args.ministry)) for p in discover(args.paths) if p != "-")
        except Exception:
            total = None
        bar = tqdm(total=total, unit="answer", file=sys.stderr, dynamic_ncols=True)
    try:
        summary = score(args.paths, args.out, model=clf, ministry=args.ministry, resume=args.resume,
                        batch_size=args.batch_size, progress=bar.update if bar else None,
                        engine=args.engine, address=args.address)
    except ScoringError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # a failed Ray job (after its retries): report it in one line, write nothing
        if args.engine != "ray":
            raise
        message = " ".join(str(exc).split())[:300]
        print(f"stancekit: error: the Ray job failed, nothing was written ({type(exc).__name__}: {message})",
              file=sys.stderr)
        return EXIT_JOB_FAILED
    finally:
        if bar:
            bar.close()
    print(f"stancekit: {summary.line()} -> {args.out}", file=sys.stderr)
    for path in summary.failed_files:
        print(f"stancekit: could not read {path} (recorded as an error row)", file=sys.stderr)
    return EXIT_ROW_ERRORS if summary.files_failed or summary.answers_failed else EXIT_OK


def _report(args) -> int:
    from .report import write_report
    from .scoring import ScoringError

    if not Path(args.scores).is_file():
        raise UsageError(f"{args.scores}: no such file")
    try:
        out = write_report(args.scores, args.out, args.title)
    except ScoringError as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise UsageError(f"{args.scores}: not a stancekit scores file ({exc})") from None
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
