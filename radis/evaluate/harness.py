"""lm-evaluation-harness plumbing: its ``hf`` model and the one ``lm_eval.simple_evaluate`` call.

GSM8K (:mod:`radis.evaluate.gsm8k`) and SDRRL's multilingual suite
(:mod:`radis.evaluate.multilingual_tasks`) write resolved task YAMLs into a temporary folder
and call :func:`run` on it: a ``TaskManager`` indexes that folder alone (not the harness's own
task set), and every knob whose lm-eval default has changed over its versions (few-shot count,
chat template, few-shot as multi-turn) and every seed is passed explicitly.
"""

from pathlib import Path

from radis.generate.backend import resolve_model


def device() -> str:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_args(model: str, dtype: str, adapter: str = "") -> dict:
    """The harness's ``hf`` model arguments: a model folder or hub id, and a LoRA adapter."""
    args = {"pretrained": resolve_model(model), "dtype": dtype}
    return args | ({"peft": resolve_model(adapter)} if adapter else {})


def make_lm(args: dict, batch_size: int):
    """The harness's ``hf`` model, loaded once; a LoRA adapter (``peft``) merged into it.

    The adapter is merged here (``merge_and_unload``), not left to lm-eval, which would keep it
    as a ``PeftModel`` and first cut the embeddings to the tokenizer's length: so the weights
    are the ones a merged model folder holds (:mod:`radis.generate.serve`), as plain linear layers.

    Args:
        args: Model arguments (:func:`model_args`).
        batch_size: Items per batch.
    """
    from lm_eval.api.registry import get_model

    args = dict(args)
    adapter = args.pop("peft", None)
    lm = get_model("hf").create_from_arg_obj(args, {"batch_size": batch_size, "device": device()})
    if adapter:
        from peft import PeftModel

        # lm-eval's own attribute (its `model` property reads it)
        lm._model = PeftModel.from_pretrained(lm._model, adapter).merge_and_unload().eval()
    return lm


def run(
    model,
    task_dir: Path,
    tasks: list[str],
    *,
    num_fewshot: int,
    limit: int | None,
    apply_chat_template: bool,
    fewshot_as_multiturn: bool,
    seed: int,
    model_args: dict | None = None,
    batch_size: int | None = None,
    device: str | None = None,
) -> dict:
    """``lm_eval.simple_evaluate`` of ``tasks``, the task YAMLs in ``task_dir``, logging samples.

    Args:
        model: An ``lm_eval.api.model.LM`` instance (:func:`make_lm`), or ``"hf"`` with
            ``model_args``.
        task_dir: Folder of resolved task YAMLs, indexed alone.
        tasks: Task names to run.
        num_fewshot: Few-shot examples before each item.
        limit: Items per task; None: all.
        apply_chat_template: Render the prompts with the model's chat template.
        fewshot_as_multiturn: Few-shot examples as earlier chat turns.
        seed: Python, numpy, torch and few-shot sampler seed.
        model_args: Arguments of a named ``model`` (:func:`model_args`).
        batch_size: Batch size of a named ``model``.
        device: Device of a named ``model`` (:func:`device`).

    Returns:
        lm-eval's results: ``results`` (per-task metrics) and ``samples`` (per-item logs).
    """
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(
        model=model,
        model_args=model_args,
        tasks=tasks,
        num_fewshot=num_fewshot,
        batch_size=batch_size,
        device=device,
        limit=limit,
        bootstrap_iters=0,
        log_samples=True,
        apply_chat_template=apply_chat_template,
        fewshot_as_multiturn=fewshot_as_multiturn,
        task_manager=TaskManager(include_path=str(task_dir), include_defaults=False),
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )
