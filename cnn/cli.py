"""Command line for teachers preparing a class and for scripts: ``python -m cnn --help``.

Every error is one readable line on stderr and exit status 1 (2 for usage errors).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from cnn import import_tf
from cnn.errors import LabError, first_line

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _train_overrides(args) -> dict:
    """The settings given on the command line, checked by the hyperparameter schema (same messages as the app)."""
    from cnn import hyperparams, run_config

    overrides = {}
    for p in run_config.SCHEMA:
        raw = getattr(args, p.name, None)
        if raw is None or raw is False:
            continue
        value = True if raw is True else p.parse(raw)
        overrides[p.name] = hyperparams.limit_value(value) if p.name == "train_limit" else value
    return overrides


def train_config(args, ds) -> Any:
    """The run the Train page would make for this dataset (its recipe, and for a student's own drawings a start
    from the shipped digit model unless ``--start-from none``), then every flag given on top."""
    from dataclasses import replace

    from cnn import cifar_budget, data, run_config, store, transfer

    start = args.start_from
    if start is None:
        start = transfer.base_for(args.dataset, ds.image_shape)
    elif start.lower() == "none":
        start = None
    else:
        store.read_meta(start)  # a clear "No saved model named ..." before anything trains
    n_train = len(ds.train_images)
    if start or data.is_user(ds.name):
        config = transfer.recipe(args.dataset, n_train, start, args.arch, freeze=args.freeze)
    else:
        config = run_config.default_config(args.arch, args.dataset)
        epochs = cifar_budget.budget_epochs(args.arch, args.dataset, _last_run(args.arch, args.dataset))
        if args.epochs is None and epochs and epochs != config.epochs:
            print(f"{epochs} epochs: as many as fit 10 minutes of training on this computer (measured; --epochs "
                  "chooses)", flush=True)
            config = replace(config, epochs=epochs)
    return replace(config, **_train_overrides(args))


def _last_run(arch: str, dataset: str) -> tuple[int, float] | None:
    """The last finished run of ``arch`` on ``dataset`` in the class database, which corrects the CIFAR forecast."""
    from cnn import db
    from cnn.jobs import records

    try:
        return records.last_run_time(db.database(), arch, dataset) if dataset == "cifar10" else None
    except db.DatabaseError:
        return None


def _cmd_train(args) -> int:
    from cnn import dataset_sources, run_results, store, training

    if args.name:
        store.validate_name(args.name)
        if store.exists(args.name) and not args.force:
            raise store.StoreError(f"A model named '{args.name}' already exists; choose another name or pass --force.")
    ds = dataset_sources.load_dataset(args.dataset)
    print(ds.describe(), flush=True)
    config = train_config(args, ds)
    if config.start_from:
        print(f"Starting from the saved model '{config.start_from}' ({'frozen' if config.freeze else 'fine-tuned'}; "
              f"its recipe: {config.arch}, batch {config.batch_size}, {config.epochs} epochs)", flush=True)

    def report(p: run_results.Progress) -> None:
        if p.kind == "epoch":
            logs = "  ".join(f"{k}={v:.4f}" for k, v in p.logs.items() if k != "learning_rate")
            print(f"epoch {p.epoch}/{p.epochs}  {logs}  ({p.elapsed:.1f} s, {p.images_per_sec:.0f} img/s)", flush=True)

    result = training.train(config, ds, on_progress=report)
    if result.message:
        print(result.message, file=sys.stderr)
    print(f"test loss {result.test_loss:.4f}  test accuracy {result.test_accuracy:.4f}  "
          f"training time {result.seconds:.1f} s")
    if args.name:
        command = "python -m cnn " + " ".join(shlex.quote(a) for a in args.argv)
        meta = run_results.result_metadata(result, command)
        if args.shipped:
            meta["shipped"] = True
        entry = store.save_model(result.model, args.name, meta, overwrite=args.force, half=args.shipped)
        print(f"saved {entry.path}")
    return 0 if result.status != "nan" else 1


def _cmd_notebook(args) -> int:
    from cnn import dataset_sources, db, notebook, run_config, store
    from cnn.jobs import records

    if args.run:
        record = records.by_label(db.database(), args.run)
        if record is None:
            raise notebook.NotebookError(f"No run named '{args.run}' (the names the Train page shows, such as "
                                         "fast-mnist-2).")
        config = run_config.config_from_dict(record.config)
    elif args.model:
        config = run_config.config_from_dict(store.read_meta(args.model).get("config") or {})
    ds = dataset_sources.load_dataset(config.dataset if args.run or args.model else args.dataset)
    if not (args.run or args.model):
        config = train_config(args, ds)
    name, blob = notebook.export(config, ds, args.run or args.model or "")
    out = Path(args.out) if args.out else Path(name)
    out = out / name if out.is_dir() else out
    try:
        out.write_bytes(blob)
    except OSError as e:
        raise notebook.NotebookError(f"Cannot write {out}: {e.strerror or e}.") from None
    print(f"wrote {out} ({len(blob) / 1024:.0f} KB): open it in Jupyter (jupyter lab {out.name}) or upload it to "
          "Colab, then Run all")
    return 0


def _dataset_for_model(meta: dict, override: str | None) -> str:
    return override or meta.get("dataset") or "mnist"


def _cmd_evaluate(args) -> int:
    from cnn import dataset_sources, evaluation, predict, store

    meta = store.read_meta(args.model)
    model = store.load_model(args.model)
    ds = dataset_sources.load_dataset(_dataset_for_model(meta, args.dataset))
    evaluation.check_compatible(model, ds)
    tta = predict.tta_level(meta)
    result = evaluation.evaluate(model, ds, tta=tta)
    print(ds.describe(), file=sys.stderr)
    if tta:
        print(f"Test-time augmentation: {predict.TTA_WORDS[tta]} (the model was trained on such images).",
              file=sys.stderr)
    print(json.dumps({"loss": round(result.loss, 6), "accuracy": round(result.accuracy, 6), "n": result.n,
                      "dataset": ds.name, "source": ds.source}))
    return 0


def _cmd_summary(args) -> int:
    from cnn import architectures, dataset_sources, inspection

    meta = dataset_sources.info(args.dataset)
    shape = meta.image_shape
    model = architectures.build_model(architectures.preset(args.arch), shape, len(meta.class_names))
    table = inspection.layer_table(model)
    width = max(len(r["layer"]) for r in table) + 2
    print(f"Model: {args.arch} on {args.dataset} {shape}")
    print(f"{'Layer (type)':<{width + 22}}{'Output shape':<22}{'Params':>12}")
    for r in table:
        print(f"{r['layer'] + ' (' + r['type'] + ')':<{width + 22}}{r['output_shape']:<22}{r['params']:>12,}")
    print(f"Total params: {model.count_params():,}")
    return 0


def _cmd_predict(args) -> int:
    from cnn import predict, preprocess, store

    meta = store.read_meta(args.model)
    model = store.load_model(args.model)
    shape = predict.model_input_shape(model)
    names = meta.get("class_names") or [str(i) for i in range(predict.model_num_classes(model))]
    status = 0
    for f in args.files:
        try:
            img = preprocess.open_image(Path(f))
            x = preprocess.prepare_image(img, shape)
        except preprocess.ImageError as e:
            print(f"{f}: {e}", file=sys.stderr)
            status = 1
            continue
        probs = predict.predict_proba(model, x)[0]
        label, conf = predict.top_k(probs, names, 1)[0]
        print(f"{f}\t{label}\t{conf:.4f}", flush=True)
    return status


def _cmd_export(args) -> int:
    from cnn import dataset_sources, export, store

    fmt = "litert-int8" if args.format == "litert" and args.int8 else args.format
    if args.int8 and args.format != "litert":
        raise export.ExportError("--int8 is for LiteRT files only.")
    meta = store.read_meta(args.model)
    model = store.load_model(args.model)
    ds = dataset_sources.load_dataset(_dataset_for_model(meta, args.dataset))
    n = min(args.check, len(ds.test_images))
    result = export.export_checked(model, fmt, ds.x_test[:n], ds.y_test[:n], calibration=ds.x_train[:200])
    out = Path(args.out)
    if out.is_dir():
        out = out / f"{args.model}{result.filename_suffix}"
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(result.data)
    tmp.replace(out)  # atomic: never a half-written file under the name
    print(result.check.describe(fmt))
    print(f"saved {out} ({result.size / 1024:,.0f} KB)")
    return 0


def _cmd_dataset_import(args) -> int:
    from cnn import data, userdata, userdata_zip

    path = Path(args.zip)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise userdata.UserDataError(f"{path}: cannot be read ({e.strerror}).") from None
    ds, skipped = userdata_zip.import_zip(args.name, raw, userdata.SHAPES[int(args.size)] if args.size else None,
                                      owner_name="command line")
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    counts = ", ".join(f"{c} {n}" for c, n in zip(ds.classes, ds.counts, strict=True))
    print(f"{data.user_key(ds.name)}: {ds.describe()} ({counts})")
    return 0


def _cmd_dataset_list(args) -> int:
    from cnn import data, db, db_urls, userdata

    found = userdata.list_datasets()
    if not found:
        print(f"No datasets of your own in the class database {db_urls.describe(db.default_url())}.")
    for ds in found:
        print(f"{data.user_key(ds.name):<28}{ds.describe()}")
    return 0


def _cmd_models(args) -> int:
    from cnn import db, db_urls, store

    entries = store.list_models()
    if not entries:
        print(f"No saved models in the class database {db_urls.describe(db.default_url())}.")
        return 0
    print(f"{'name':<24}{'dataset':<16}{'accuracy':>10}  saved")
    for e in entries:
        acc = e.test_accuracy
        print(f"{e.name:<24}{e.dataset:<16}{(f'{acc:.4f}' if acc is not None else '-'):>10}  {e.meta.get('saved', '')}")
    return 0


def _cmd_class(args) -> int:
    from cnn import classfile

    path = Path(args.zip)
    if args.class_command == "export":
        counts = classfile.export(path)
        what = "written to"
    else:
        counts = classfile.import_(path)
        what = "imported from"
    print(f"class {what} {path}: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
    return 0


def _cmd_health(args) -> int:
    """What a monitor (or systemd, or a teacher) asks before a lesson: can this server's pages be served?"""
    import urllib.request

    from cnn import db, db_urls

    problems = []
    try:
        database = db.Database(pool_size=1)
        try:
            database.query("SELECT 1 AS one FROM alembic_version")
            print(f"class database {db_urls.describe(database.url)}: ok, schema {database.schema_version()}")
        finally:
            database.close()
    except db.DatabaseError as e:
        problems.append(str(e))
    if args.url:
        base = args.url.rstrip("/")
        for path, want in (("/_stcore/health", b"ok"), ("/", b"<html")):
            try:
                with urllib.request.urlopen(base + path, timeout=args.timeout) as r:
                    body = r.read(65536)
                if want not in body.lower():
                    problems.append(f"{base}{path} answered something else than a CNN Lab page")
                else:
                    print(f"{base}{path}: ok")
            except (OSError, ValueError) as e:
                problems.append(f"{base}{path} does not answer ({getattr(e, 'reason', e)})")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _cmd_settings(args) -> int:
    from cnn import settings

    if args.markdown:
        print(settings.markdown_table())
        return 0
    for name, setting in settings.SETTINGS.items():
        if not setting.internal:
            print(f"{settings.describe(name):<60} {setting.help}")
    for problem in settings.problems():
        print(f"error: {problem}", file=sys.stderr)
    return 1 if settings.problems() else 0


def build_parser() -> argparse.ArgumentParser:
    from cnn import userdata
    from cnn.presets import PRESETS

    dataset_help = "mnist, fashion_mnist, cifar10, or user:NAME for a dataset of your own (see: dataset list)"

    p = argparse.ArgumentParser(prog="python -m cnn", description="CNN Lab command line.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and save it to models/")
    _train_flags(t, dataset_help)
    t.add_argument("--start-from", metavar="MODEL", help="transfer learning: start from this saved model's layers "
                   "(default for your own 28x28 drawings: the shipped digit model 'mnist'; 'none' to train from "
                   "scratch); the run then uses that model's architecture and recipe")
    t.add_argument("--freeze", action="store_true", help="with --start-from: keep the base's layers as they are, "
                   "train only the new head (default: fine-tune them all, batch normalization excepted)")
    t.add_argument("--name", help="save under this name (letters, digits, - and _)")
    t.add_argument("--force", action="store_true", help="overwrite an existing model of that name")
    t.add_argument("--shipped", action="store_true", help=argparse.SUPPRESS)
    t.set_defaults(func=_cmd_train)
    nb = sub.add_parser("notebook", help="a run as a Jupyter notebook in plain Keras: a run's name (--run), a saved "
                        "model's run (--model), or the same flags as train")
    nb.add_argument("--run", help="a run's name as the Train page shows it (fast-mnist-2)")
    nb.add_argument("--model", help="a saved model: the run that trained it")
    nb.add_argument("--out", help="the file (or folder) to write (default: the run's name .ipynb, or .zip for your "
                    "own dataset)")
    _train_flags(nb, dataset_help)
    nb.set_defaults(func=_cmd_notebook, start_from="none", freeze=False)  # plain Keras: a run from scratch
    e = sub.add_parser("evaluate", help="test loss and accuracy of a saved model (last line: JSON)")
    e.add_argument("--model", required=True)
    e.add_argument("--dataset", help=dataset_help + " (default: the model's own)")
    e.set_defaults(func=_cmd_evaluate)
    s = sub.add_parser("summary", help="layer table and parameter count of an architecture")
    s.add_argument("--arch", choices=list(PRESETS), required=True)
    s.add_argument("--dataset", default="mnist", help=dataset_help)
    s.set_defaults(func=_cmd_summary)
    st = sub.add_parser("settings", help="the server settings (CNN_* variables): their values here, or --markdown "
                        "for the README's table")
    st.add_argument("--markdown", action="store_true")
    st.set_defaults(func=_cmd_settings)
    pr = sub.add_parser("predict", help="classify image files (PNG, JPEG, ...) with a saved model")
    pr.add_argument("--model", required=True)
    pr.add_argument("files", nargs="+", metavar="FILE")
    pr.set_defaults(func=_cmd_predict)
    m = sub.add_parser("models", help="list saved models")
    m.set_defaults(func=_cmd_models)
    x = sub.add_parser("export", help="a LiteRT (TFLite) or ONNX file of a saved model, checked against Keras")
    x.add_argument("--model", required=True)
    x.add_argument("--format", choices=["litert", "onnx"], required=True)
    x.add_argument("--int8", action="store_true", help="LiteRT with int8 weights and activations: about 4x smaller")
    x.add_argument("--dataset", help="test images to check the file on (default: the model's own dataset)")
    x.add_argument("--check", type=int, default=2000, help="how many test images to check it on (default 2000)")
    x.add_argument("out", help="the file to write (or a folder)")
    x.set_defaults(func=_cmd_export)
    d = sub.add_parser("dataset", help="your own datasets: import a zip of class folders, list them")
    dsub = d.add_subparsers(dest="dataset_command", required=True)
    di = dsub.add_parser("import", help="a new dataset from a .zip of class folders (cats/…, dogs/…)")
    di.add_argument("name", help="the new dataset's name (letters, digits, - and _)")
    di.add_argument("zip", help="the .zip file")
    di.add_argument("--size", choices=[str(side) for side in userdata.SHAPES], help="; ".join(
        f"{side}: {userdata.size_label(shape)}" for side, shape in userdata.SHAPES.items())
        + " (default: the zip's dataset.json, else 28)")
    di.set_defaults(func=_cmd_dataset_import)
    dl = dsub.add_parser("list", help="list your own datasets")
    dl.set_defaults(func=_cmd_dataset_list)
    h = sub.add_parser("health", help="exit 0 when this server can serve pages: its class database answers (with "
                       "these settings) and, with --url, the app answers; else 1, the problem on stderr")
    h.add_argument("--url", help="the app's address, e.g. http://localhost:8501")
    h.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the app (default 5)")
    h.set_defaults(func=_cmd_health)
    c = sub.add_parser("class", help="the whole class in one file: export it (to keep, or to move to another "
                       "server), import it (into an empty or matching class database)")
    csub = c.add_subparsers(dest="class_command", required=True)
    for action, text in (("export", "write names, runs, models, datasets and the challenge to a .zip"),
                         ("import", "bring a class .zip in; a corrupt or hostile one is refused, nothing changed")):
        ca = csub.add_parser(action, help=text)
        ca.add_argument("zip", help="the class .zip file")
        ca.set_defaults(func=_cmd_class)
    return p


def _train_flags(parser, dataset_help: str) -> None:
    """The dataset, the network and every setting the Train page has, with the same bounds and messages."""
    from cnn.presets import PRESETS
    from cnn.run_config import SCHEMA

    parser.add_argument("--dataset", default="mnist", help=dataset_help)
    parser.add_argument("--arch", choices=list(PRESETS), default="fast")
    for param in SCHEMA:
        if param.kind is bool:
            parser.add_argument(param.cli, dest=param.name, action="store_true", help=param.help)
        else:
            parser.add_argument(param.cli, dest=param.name, help=f"{param.help} ({param.allowed()})")


def main(argv: list[str] | None = None) -> int:
    """Run one command; known errors become one line on stderr and a non-zero exit."""
    import logging

    from cnn import settings

    logging.getLogger("cnnlab").addHandler(logging.NullHandler())  # errors are the one line below, not a log too
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # recorded in saved models' metadata
    if (bad := settings.problems()) and args.command != "settings":
        for problem in bad:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    try:
        if args.command not in ("models", "dataset", "class", "health"):
            import_tf.import_tensorflow()
        return args.func(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory; use a smaller batch size or dataset", file=sys.stderr)
        return 1
    except Exception as e:
        if isinstance(e, LabError):  # the library's own: the message says what to do
            print(f"error: {e}", file=sys.stderr)
            return 1
        # last resort: still one line, never a traceback
        print(f"error: unexpected {type(e).__name__}: {first_line(e) if str(e).strip() else ''}", file=sys.stderr)
        return 1
