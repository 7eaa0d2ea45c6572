"""Model folders: config, checksum manifest, model card, and where models live.

A model folder holds ``config.json`` (labels, backend, training provenance,
metrics, versions), the weights, a generated ``README.md`` model card and
``manifest.json`` with the sha256 of every other file. Loading verifies the
manifest, so corruption and edits are caught; formats that can run code
(joblib/pickle) load from outside the installed package only with
``trust_pickle=True``.
"""
from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path, PurePosixPath
from typing import Dict, Optional, Union

CONFIG = "config.json"
MANIFEST = "manifest.json"
CARD = "README.md"

PathLike = Union[str, Path]


class ModelError(Exception):
    """A model cannot be found or loaded."""


class ModelIntegrityError(ModelError):
    """A model file is missing, altered, truncated or points outside its folder."""


class UntrustedModelError(ModelError):
    """A model format that can execute code was offered from outside the package."""


def packaged_models_dir() -> Path:
    """Where the shipped models are: inside the installed package, else the repo's ``models/``."""
    here = Path(__file__).resolve().parent
    installed = here / "models"
    return installed if installed.is_dir() else here.parent / "models"


def default_model_name() -> str:
    """The name in ``models/DEFAULT`` (one line), the model :func:`stancekit.load` uses by default."""
    marker = packaged_models_dir() / "DEFAULT"
    if marker.is_file():
        name = marker.read_text(encoding="utf-8").strip()
        if name:
            return name
    return "rules"


def resolve_model_dir(name_or_path: PathLike) -> Path:
    """A folder path, or the name of a shipped model."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path.resolve()
    shipped = packaged_models_dir() / str(name_or_path)
    if "/" not in str(name_or_path) and "\\" not in str(name_or_path) and shipped.is_dir():
        return shipped.resolve()
    available = sorted(p.name for p in packaged_models_dir().glob("*") if (p / CONFIG).is_file())
    raise ModelError(
        f"no model folder or shipped model named {str(name_or_path)!r} "
        f"(shipped: {', '.join(['rules'] + available)})"
    )


def is_packaged(folder: Path) -> bool:
    """True when ``folder`` is one of the models shipped with this installation."""
    try:
        folder.resolve().relative_to(packaged_models_dir().resolve())
        return True
    except ValueError:
        return False


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def safe_member(folder: Path, relative: str) -> Path:
    """``folder / relative``, refusing absolute paths and anything that escapes ``folder``."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not relative or "\\" in relative:
        raise ModelIntegrityError(f"{folder}: path {relative!r} in the model files points outside the model folder")
    target = (folder / pure).resolve()
    try:
        target.relative_to(folder.resolve())
    except ValueError:
        raise ModelIntegrityError(f"{folder}: {relative!r} resolves outside the model folder") from None
    return target


def write_manifest(folder: Path) -> Dict[str, str]:
    """Hash every file in ``folder`` (recursively) except the manifest itself."""
    hashes = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    (folder / MANIFEST).write_text(json.dumps({"sha256": hashes}, indent=2) + "\n", encoding="utf-8")
    return hashes


def verify_manifest(folder: Path) -> dict:
    """Check every file listed in the manifest; return the parsed ``config.json``."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ModelIntegrityError(f"{folder}: no {MANIFEST}; refusing a model without checksums")
    try:
        hashes = json.loads(manifest_path.read_text(encoding="utf-8"))["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if CONFIG not in hashes:
        raise ModelIntegrityError(f"{manifest_path}: {CONFIG} is not covered by the manifest")
    for relative, expected in hashes.items():
        path = safe_member(folder, relative)
        if not path.is_file():
            raise ModelIntegrityError(f"{path}: listed in {MANIFEST} but missing")
        if sha256_file(path) != expected:
            raise ModelIntegrityError(f"{path}: checksum mismatch (file altered or truncated)")
    config = read_config(folder)
    for relative in (config.get("files") or {}).values():
        safe_member(folder, relative)
        inside = relative.rstrip("/") + "/"
        if relative not in hashes and not any(h.startswith(inside) for h in hashes):
            raise ModelIntegrityError(f"{folder}: {relative} is used by the model but not in {MANIFEST}")
    return config


def read_config(folder: Path) -> dict:
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / CONFIG}: cannot read model config ({exc})") from None
    if not isinstance(config, dict) or "backend" not in config:
        raise ModelError(f"{folder / CONFIG}: not a stancekit model config (no 'backend')")
    return config


def config_header(name: str, version: str, backend: str) -> dict:
    """The fields every model config starts with."""
    import datetime as dt

    from .labels import LABELS

    return {"name": name, "version": version, "backend": backend, "labels": list(LABELS),
            "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def write_config(folder: Path, config: dict) -> None:
    (folder / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def library_versions(*names: str) -> Dict[str, Optional[str]]:
    from importlib.metadata import PackageNotFoundError, version

    out: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def write_model_card(folder: Path, config: dict) -> None:
    """Generate the ``README.md`` model card from the config."""
    lines = [
        f"# {config['name']} (v{config.get('version', '?')})",
        "",
        f"A stancekit `{config['backend']}` model that labels government press-briefing answers "
        "as **confirm**, **deny** or **hedge** (see the labelling guide in the stancekit repository).",
        "",
        "## Intended use",
        "",
        "Scoring answers of foreign-ministry and government spokespeople to press questions, in English, "
        "for research and monitoring. Read it against the question when one is available. "
        "Not for non-English text, for deciding anything about individuals, or as ground truth.",
        "",
        "## Training data",
        "",
    ]
    training = config.get("training", {})
    for f in training.get("files", []):
        lines.append(f"- `{f['path']}` ({f['rows']} rows used, sha256 `{f['sha256'][:16]}…`)")
    if training.get("where"):
        lines.append(f"- filter: `{training['where']}`")
    lines += ["", f"Seed: {training.get('seed')}. Hyperparameters: "
              f"`{json.dumps(config.get('params') or config.get('recipe') or {})}`", ""]
    if config.get("export"):
        lines += ["## Inference", "",
                  f"ONNX graph with fused operators {json.dumps(config['export'].get('fused_operators', {}))}; "
                  f"int8: {config['export'].get('int8')}; windows per model call: "
                  f"{config['export'].get('window_batch')}. Window policy: `{json.dumps(config.get('window', {}))}`; "
                  f"temperature {config.get('temperature', 1.0):.3f}.", ""]
    metrics = config.get("metrics") or {}
    if metrics:
        lines += ["## Evaluation", ""]
        for split_name, m in metrics.items():
            facts = [f"n={m.get('n')}", f"macro-F1 {m.get('macro_f1', 0):.3f}"]
            if "accuracy" in m:
                facts.append(f"accuracy {m['accuracy']:.3f}")
            if "ece" in m:
                facts.append(f"expected calibration error {m['ece']:.3f}")
            if "label_agreement_with_torch_fp32" in m:
                facts.append(f"labels equal to torch fp32 on {100 * m['label_agreement_with_torch_fp32']:.1f}%")
            if "command" in m:
                facts.append(f"`{m['command']}`")
            lines.append(f"**{split_name}** — " + ", ".join(facts))
            for group, gm in (m.get("groups") or {}).items():
                lines.append(f"- {group}: n={gm['n']}, macro-F1 {gm['macro_f1']:.3f}")
            lines.append("")
    lines += [
        "## Limits",
        "",
        "- English only; other languages are flagged, not labelled.",
        "- The label is relative to the question; without the question, answers that deny a negative "
        "report can read as denials.",
        "- Long answers full of boilerplate and implicit pushback remain the hardest cases.",
        "",
        "## Versions",
        "",
        "```json",
        json.dumps(config.get("library_versions", {}), indent=2),
        "```",
        "",
    ]
    (folder / CARD).write_text("\n".join(lines), encoding="utf-8")
