"""The backbone every stage loads: the toy model trained here, or a pinned hub snapshot."""

import shutil
from pathlib import Path

from radis.io import RadisError

#: Files of a hub model repository the pipeline needs (weights, config, tokenizer, template).
PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]


def download(repo_id: str, revision: str, out: Path) -> None:
    """Download ``repo_id`` at ``revision`` into ``out`` (safetensors weights only).

    A local folder (a path starting with ``.`` or ``/``, or an existing directory) is copied
    instead: a checkpoint of your own, or a test's tiny model.

    Raises:
        RadisError: One line naming the model when the hub cannot be reached or has no such
            repository or revision.
    """
    local = Path(repo_id)
    if repo_id.startswith((".", "/")) or local.is_dir():
        if not (local / "config.json").is_file():
            raise RadisError(f"params.yaml: base.backbone: {repo_id}: no model folder there")
        shutil.copytree(local, out)
        return
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        snapshot_download(repo_id, revision=revision, local_dir=out, allow_patterns=PATTERNS)
    except LocalEntryNotFoundError:
        raise RadisError(
            f"params.yaml: base.backbone: cannot download {repo_id!r} (no network, or "
            "HF_HUB_OFFLINE set, and not in the local hub cache)"
        ) from None
    except HfHubHTTPError as err:
        raise RadisError(
            f"params.yaml: base.backbone: {repo_id!r} at revision {revision!r}: "
            f"{str(err).splitlines()[0]}"
        ) from None
    if not any(out.glob("*.safetensors")):
        raise RadisError(f"params.yaml: base.backbone: {repo_id!r} has no safetensors weights")
