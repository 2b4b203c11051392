"""The backbone every stage loads: the toy model trained here, or a pinned hub snapshot."""

import json
import shutil
from pathlib import Path

from radis.core.io import RadisError
from radis.core.templates import PROMPT_FORMATS
from radis.data.hub import resolve_commit

#: Files of a hub model repository the pipeline needs (weights, config, tokenizer, template).
PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]

#: The file in a downloaded backbone's folder naming the repository and the commit it came from.
SOURCE = "source.json"

#: Folders that tools leave inside a model folder and that are no part of the model:
#: ``snapshot_download(local_dir=...)`` keeps per-file metadata with timestamps in ``.cache``.
LOCAL_METADATA = (".cache", ".git")


def download(repo_id: str, revision: str, out: Path) -> None:
    """Download ``repo_id`` at ``revision`` into ``out`` (safetensors weights only).

    The revision (a branch, tag or sha) is resolved to its commit sha first, and that commit is
    downloaded, so ``out`` is exactly one commit's files; ``out/source.json`` names the repository,
    the revision asked for and the commit, so ``dvc.lock`` (through the folder's hash) pins the
    weights a result came from. Hub metadata folders are removed: the same commit gives the same
    bytes on any machine, and a re-download leaves every later stage up to date.

    A local folder (a path starting with ``.`` or ``/``, or an existing directory) is copied
    instead, without such metadata: a checkpoint of your own, or a test's tiny model.

    Raises:
        RadisError: One line naming the model when the hub cannot be reached or has no such
            repository or revision.
    """
    local = Path(repo_id)
    if repo_id.startswith((".", "/")) or local.is_dir():
        if not (local / "config.json").is_file():
            raise RadisError(f"params.yaml: base.backbone: {repo_id}: no model folder there")
        shutil.copytree(local, out, ignore=shutil.ignore_patterns(*LOCAL_METADATA))
        return
    sha = _hub_call(repo_id, revision, lambda: resolve_commit(repo_id, revision))
    from huggingface_hub import snapshot_download

    _hub_call(
        repo_id,
        revision,
        lambda: snapshot_download(repo_id, revision=sha, local_dir=out, allow_patterns=PATTERNS),
    )
    for name in LOCAL_METADATA:
        shutil.rmtree(out / name, ignore_errors=True)
    if not any(out.glob("*.safetensors")):
        raise RadisError(f"params.yaml: base.backbone: {repo_id!r} has no safetensors weights")
    record = {"repo_id": repo_id, "revision": revision, "commit": sha}
    (out / SOURCE).write_text(json.dumps(record, indent=2) + "\n")


def apply_prompt_format(folder: Path, prompt_format: str) -> None:
    """Give the backbone in ``folder`` the chat template of ``base.prompt_format``.

    ``chat`` keeps the backbone's own template; any other format (a base model's) is written as
    ``chat_template`` into ``tokenizer_config.json``, and a separate ``chat_template.jinja`` or
    ``chat_template.json`` (which would take precedence) is removed.

    Raises:
        RadisError: ``chat`` for a backbone without a chat template.
    """
    config_file = folder / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    separate = [folder / "chat_template.jinja", folder / "chat_template.json"]
    if prompt_format == "chat":
        if not config.get("chat_template") and not any(f.is_file() for f in separate):
            raise RadisError(
                "params.yaml: base.prompt_format: chat, but the backbone has no chat template "
                "(a base model): set it to one of " + str(sorted(PROMPT_FORMATS))
            )
        return
    for f in separate:
        f.unlink(missing_ok=True)
    config["chat_template"] = PROMPT_FORMATS[prompt_format]
    config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _hub_call(repo_id: str, revision: str, call):
    """``call()``, with the hub's errors turned into one line naming the backbone."""
    from httpx2 import TransportError  # huggingface_hub's HTTP client, unwrapped on no network
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return call()
    except HfHubHTTPError as err:
        raise RadisError(
            f"params.yaml: base.backbone: {repo_id!r} at revision {revision!r}: "
            f"{str(err).splitlines()[0]}"
        ) from None
    except (LocalEntryNotFoundError, OSError, TransportError) as err:
        raise RadisError(
            f"params.yaml: base.backbone: cannot download {repo_id!r} at revision {revision!r} "
            f"(no network, or HF_HUB_OFFLINE set; offline, a commit sha in the local hub cache "
            f"works): {type(err).__name__}"
        ) from None
