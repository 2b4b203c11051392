"""A stand-in for the part of vLLM's offline API that radis calls (tests only, never installed).

It takes the real signatures (``LLM(model, **engine_kwargs)``, ``LLM.chat``, ``LLM.generate``,
``SamplingParams``), checks the arguments it gets, records every call on the engine, renders
chats with the model's own tokenizer as vLLM does (``apply_chat_template`` with the caller's
``add_generation_prompt``/``continue_final_message``, then token ids without added special
tokens), and answers each prompt with :func:`answer`, a checksum of its token ids, so every
answer names its prompt. Request ids count up per engine as in vLLM, and the outputs come back
shuffled: the caller must restore the order.

For engines in other processes (``base.vllm.data_parallel_size``), environment variables:
``STAND_IN_VLLM_LOG`` names a file each engine appends JSON lines to (its start, with its
``CUDA_VISIBLE_DEVICES`` and arguments, and each call); an engine whose ``CUDA_VISIBLE_DEVICES``
is listed (``;``-separated) in ``STAND_IN_VLLM_BROKEN`` fails to start as a bad GPU would, and one
listed in ``STAND_IN_VLLM_CRASH`` kills its process at its first call.
"""

import itertools
import json
import os
import random
from dataclasses import dataclass, field

from tqdm import tqdm
from transformers import AutoTokenizer

from vllm.lora.request import LoRARequest

STAND_IN = True
#: ``vllm.LLM`` / ``EngineArgs`` keyword arguments radis may pass.
ENGINE_KWARGS = {
    "dtype",
    "seed",
    "tensor_parallel_size",
    "gpu_memory_utilization",
    "max_model_len",
    "enable_lora",
    "max_lora_rank",
}


def answer(tokenizer, prompt_ids: list[int], max_tokens: int) -> tuple[str, list[int], str]:
    """The stand-in's reply to a prompt: text, token ids (EOS when it fits), finish reason."""
    reply = tokenizer.encode(f"#{sum(prompt_ids)}.{len(prompt_ids)}", add_special_tokens=False)
    if len(reply) < max_tokens:
        return tokenizer.decode(reply), reply + [tokenizer.eos_token_id], "stop"
    return tokenizer.decode(reply[:max_tokens]), reply[:max_tokens], "length"


@dataclass(kw_only=True)
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    max_tokens: int | None = 16

    def __post_init__(self):
        if self.n != 1 or self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"bad sampling params {self}")
        if self.max_tokens is None or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: None
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    finished: bool = True


@dataclass
class Call:
    """One call to ``LLM.chat`` or ``LLM.generate``, as the engine received it."""

    method: str
    params: SamplingParams
    lora_request: LoRARequest | None
    prompt_token_ids: list[list[int]]
    rendered: list[str] = field(default_factory=list)
    add_generation_prompt: bool | None = None
    continue_final_message: bool | None = None
    returned_ids: list[str] = field(default_factory=list)
    use_tqdm: object = None


def progress_bar(outputs: list[RequestOutput], use_tqdm) -> None:
    """Count the outputs on a bar as vLLM's ``LLM._run_engine`` does (its tqdm calls)."""
    make = use_tqdm if callable(use_tqdm) else tqdm
    pbar = make(total=len(outputs), desc="Processed prompts", dynamic_ncols=True, postfix="")
    tokens_in = tokens_out = 0
    for output in outputs:
        tokens_in += len(output.prompt_token_ids)
        tokens_out += sum(len(o.token_ids) for o in output.outputs)
        elapsed = max(pbar.format_dict["elapsed"], 1e-9)
        pbar.postfix = (
            f"est. speed input: {tokens_in / elapsed:.2f} toks/s, "
            f"output: {tokens_out / elapsed:.2f} toks/s"
        )
        pbar.update(1)
    pbar.close()


class LLM:
    #: Every engine made, newest last.
    instances: list["LLM"] = []

    def __init__(self, model: str, **kwargs):
        unknown = set(kwargs) - ENGINE_KWARGS
        if unknown:
            raise TypeError(f"unexpected LLM arguments {sorted(unknown)}")
        if kwargs.get("dtype", "auto") not in ("auto", "float16", "bfloat16", "float32"):
            raise ValueError(f"bad dtype {kwargs['dtype']!r}")
        if not 0 < kwargs.get("gpu_memory_utilization", 0.9) <= 1:
            raise ValueError("gpu_memory_utilization must be in (0, 1]")
        self.devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        if _listed("STAND_IN_VLLM_BROKEN", self.devices):
            raise RuntimeError(f"CUDA error: no CUDA-capable device is detected\n({self.devices})")
        _log(event="engine", devices=self.devices, kwargs=kwargs)
        self.model, self.kwargs, self.calls = model, kwargs, []
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.request_counter = itertools.count()
        self.shuffler = random.Random(0)
        LLM.instances.append(self)

    def get_tokenizer(self, lora_request=None):
        return self.tokenizer

    def chat(
        self,
        messages,
        sampling_params=None,
        use_tqdm=True,
        lora_request=None,
        chat_template=None,
        chat_template_content_format="auto",
        add_generation_prompt=True,
        continue_final_message=False,
        tools=None,
        chat_template_kwargs=None,
        mm_processor_kwargs=None,
    ):
        if add_generation_prompt and continue_final_message:
            raise ValueError("continue_final_message and add_generation_prompt are exclusive")
        if not all(isinstance(m, list) for m in messages):
            raise TypeError("expected a list of conversations")
        rendered = [
            self.tokenizer.apply_chat_template(
                m,
                tokenize=False,
                chat_template=chat_template,
                add_generation_prompt=add_generation_prompt,
                continue_final_message=continue_final_message,
            )
            for m in messages
        ]
        ids = [self.tokenizer.encode(r, add_special_tokens=False) for r in rendered]
        call = Call("chat", sampling_params, lora_request, ids, rendered)
        call.add_generation_prompt = add_generation_prompt
        call.continue_final_message = continue_final_message
        return self._run(call, use_tqdm)

    def generate(self, prompts, sampling_params=None, *, use_tqdm=True, lora_request=None):
        if not all(isinstance(p, dict) and set(p) == {"prompt_token_ids"} for p in prompts):
            raise TypeError("the stand-in takes TokensPrompt dicts only")
        ids = [list(p["prompt_token_ids"]) for p in prompts]
        return self._run(Call("generate", sampling_params, lora_request, ids), use_tqdm)

    def _run(self, call: Call, use_tqdm=True) -> list[RequestOutput]:
        if not isinstance(call.params, SamplingParams):
            raise TypeError("sampling_params must be a SamplingParams")
        if call.lora_request is not None:
            if not isinstance(call.lora_request, LoRARequest):
                raise TypeError("lora_request must be a LoRARequest")
            if not self.kwargs.get("enable_lora"):
                raise ValueError("LoRA is not enabled on this engine (enable_lora=True)")
        if _listed("STAND_IN_VLLM_CRASH", self.devices):
            os._exit(9)
        _log(
            event="call",
            devices=self.devices,
            seed=call.params.seed,
            prompts=len(call.prompt_token_ids),
        )
        self.calls.append(call)
        call.use_tqdm = use_tqdm
        outputs = [self._answer(ids, call.params) for ids in call.prompt_token_ids]
        if use_tqdm:
            progress_bar(outputs, use_tqdm)
        self.shuffler.shuffle(outputs)
        call.returned_ids = [o.request_id for o in outputs]
        return outputs

    def _answer(self, prompt_ids: list[int], params: SamplingParams) -> RequestOutput:
        text, token_ids, reason = answer(self.tokenizer, prompt_ids, params.max_tokens)
        out = CompletionOutput(0, text, token_ids, None, None, reason)
        return RequestOutput(str(next(self.request_counter)), None, prompt_ids, [out])


def _listed(variable: str, devices: str | None) -> bool:
    return devices is not None and devices in os.environ.get(variable, "").split(";")


def _log(**record) -> None:
    path = os.environ.get("STAND_IN_VLLM_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record | {"pid": os.getpid()}) + "\n")
