"""COMET scoring, run by :mod:`radis.evaluate.comet` in the COMET environment (``make comet-env``).

Usage: ``.venv-comet/bin/python -I radis/evaluate/comet_worker.py REQUEST.json RESPONSE.json``.

A standalone script: it imports only the standard library and COMET's own environment (comet,
torch, huggingface_hub), never the ``radis`` package, whose dependencies that environment lacks.
``-I`` keeps this folder off ``sys.path``, so ``import comet`` finds COMET, not
``radis/evaluate/comet.py``.

The request is ``{"model", "batch_size", "gpus", "samples": [{"src", "mt"[, "ref"]}]}``; the
response is ``{"scores": [...], "system_score": float, "commit": sha or null}`` (the hub commit
the checkpoint was downloaded at; null for a local checkpoint) or ``{"error": "one line"}``.
"""

import json
import os
import sys
import warnings
from pathlib import Path

QE_HINT = "a reference-free model such as Unbabel/wmt22-cometkiwi-da"
REBUILD = "recreate it: rm -rf .venv-comet && make comet-env"
LOCAL_HINT = "a local checkpoint (a model.ckpt, or a folder with checkpoints/model.ckpt)"


class WorkerError(Exception):
    """An error reported to the caller as one line."""


def first_line(err: BaseException, limit: int = 120) -> str:
    """``Type: first line of the message``, cut at ``limit`` characters."""
    text = str(err).strip().splitlines()
    line = f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def causes(err: BaseException) -> list[BaseException]:
    """``err`` and the exceptions it was raised while handling, outermost first."""
    chain = [err]
    while chain[-1].__context__ is not None:
        chain.append(chain[-1].__context__)
    return chain


def hub_error(model: str, err: BaseException) -> str:
    """The real reason COMET's ``download_model`` failed, which it hides behind a KeyError.

    ``download_model`` raises ``KeyError("... not supported by COMET")`` while handling the
    failure of its legacy download, itself raised while handling the hub download's error: the
    cause is further down that chain.
    """
    from huggingface_hub import errors as hub
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout

    chain = causes(err)

    def find(*types: type) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    if find(hub.GatedRepoError):
        return (
            f"COMET model {model!r} is gated on the Hugging Face hub: accept its terms on its "
            f"hub page and log in (HF_TOKEN), or use {LOCAL_HINT}"
        )
    if find(hub.RepositoryNotFoundError):
        return f"COMET model {model!r}: no such model on the Hugging Face hub, nor a local path"
    if find(hub.HFValidationError):
        return f"COMET model {model!r}: no such local file or folder, and not a hub id"
    offline = find(hub.LocalEntryNotFoundError, RequestsConnectionError, Timeout, ConnectionError)
    if offline:
        return (
            f"COMET model {model!r} is not in the local Hugging Face cache and cannot be "
            f"downloaded: no network (or offline mode, HF_HUB_OFFLINE) ({first_line(offline)}); "
            f"download it where there is network, or use {LOCAL_HINT}"
        )
    return f"COMET model {model!r}: download failed ({first_line(chain[-1])})"


def checkpoint(model: str) -> str:
    """The checkpoint file of ``model``: a local ``.ckpt`` file, or a hub id to download."""
    if Path(model).is_file():
        return model
    from comet import download_model

    try:
        return download_model(model)
    except KeyError as err:
        raise WorkerError(hub_error(model, err)) from None


def snapshot_commit(ckpt: str) -> str | None:
    """The hub commit of a downloaded checkpoint: its ``snapshots/<sha>/...`` folder's name."""
    parts = Path(ckpt).parts
    if "snapshots" not in parts[:-1]:
        return None
    sha = parts[parts.index("snapshots") + 1]
    return sha if len(sha) == 40 and all(c in "0123456789abcdef" for c in sha) else None


def score(request: dict) -> dict:
    """Score ``request["samples"]`` with ``request["model"]``."""
    from comet import load_from_checkpoint

    model_name = request["model"]
    ckpt = checkpoint(model_name)
    try:
        model = load_from_checkpoint(ckpt)
    except Exception as err:
        raise WorkerError(f"COMET model {model_name!r}: cannot load ({first_line(err)})") from None
    samples = request["samples"]
    if samples and "ref" not in samples[0] and model.requires_references():
        raise WorkerError(
            f"COMET model {model_name!r} needs references; quality estimation needs {QE_HINT}"
        )
    out = model.predict(
        samples, batch_size=request["batch_size"], gpus=request["gpus"], progress_bar=True
    )  # COMET's bar on stderr: radis.evaluate.comet relays it
    return {
        "scores": [float(s) for s in out.scores],
        "system_score": float(out.system_score),
        "commit": None if Path(model_name).exists() else snapshot_commit(ckpt),
    }


def main(request_path: str, response_path: str) -> None:
    """Read the request, score it, write the response (an error as one line)."""
    warnings.filterwarnings("ignore")
    threads = os.environ.get("RADIS_THREADS")
    try:
        import torch

        if threads:
            torch.set_num_threads(int(threads))
        response = score(json.loads(Path(request_path).read_text()))
    except WorkerError as err:
        response = {"error": str(err)}
    except ImportError as err:
        response = {"error": f"COMET environment is broken ({first_line(err)}); {REBUILD}"}
    except Exception as err:
        response = {"error": f"COMET failed: {first_line(err)}"}
    Path(response_path).write_text(json.dumps(response))


if __name__ == "__main__":
    main(*sys.argv[1:])
