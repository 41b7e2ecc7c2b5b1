"""The large example models (ResNet-50, ViT-B/16, GPT-2, LLaMA-7B shapes).

Each is built under ``torch.device("meta")`` as the docs build does, its
parameter count checked against the reference model's, and one meta forward
run at the documented input; small configurations of the two language models
run for real on the CPU to check the causal masking.
"""

from __future__ import annotations

import pytest
import torch

from example_models import gpt2 as gpt2_mod
from example_models import llama as llama_mod
from example_models import resnet50 as resnet50_mod
from example_models import vit as vit_mod
from example_models.gpt2 import GPT2, GPT2Output, KeyValueCache
from example_models.llama import Llama, tiny_llama
from example_models.resnet50 import ResNet50
from example_models.vit import VisionTransformer

DTYPES = {"float32": torch.float32, "int64": torch.int64}

# (module, class, reference parameter count, expected output shape)
CASES = {
    "resnet50": (resnet50_mod, ResNet50, 25_557_032, (1, 1000)),        # torchvision resnet50
    "vit": (vit_mod, VisionTransformer, 86_567_656, (1, 1000)),         # torchvision vit_b_16
    "gpt2": (gpt2_mod, GPT2, 124_439_808, (1, 128, 50257)),             # HF gpt2, tied head
    "llama": (llama_mod, Llama, 6_738_415_616, (1, 128, 32000)),        # LLaMA-7B
}


def param_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() deduplicates tied weights


@pytest.fixture(scope="module")
def meta_models() -> dict[str, torch.nn.Module]:
    models = {}
    for name, (_, cls, _, _) in CASES.items():
        with torch.device("meta"):
            models[name] = cls()
    return models


def meta_input(module) -> torch.Tensor:
    return torch.zeros(module.INPUT_SHAPE, dtype=DTYPES[module.INPUT_DTYPE], device="meta")


@pytest.mark.parametrize("name", CASES)
def test_parameter_count(meta_models, name):
    model = meta_models[name]
    assert all(p.device.type == "meta" for p in model.parameters())
    assert param_count(model) == CASES[name][2]


@pytest.mark.parametrize("name", CASES)
def test_meta_forward_shape(meta_models, name):
    module, _, _, shape = CASES[name]
    with torch.no_grad():
        out = meta_models[name](meta_input(module))
    logits = out.logits if isinstance(out, GPT2Output) else out
    assert logits.device.type == "meta"
    assert tuple(logits.shape) == shape


def test_gpt2_returns_cache_object(meta_models):
    with torch.no_grad():
        out = meta_models["gpt2"](meta_input(gpt2_mod))
    cache = out.past_key_values
    assert isinstance(cache, KeyValueCache)
    assert not isinstance(cache, (tuple, list, dict))
    assert len(cache) == len(cache.key_cache) == len(cache.value_cache) == 12
    assert tuple(cache.key_cache[0].shape) == (1, 12, 128, 64)
    assert tuple(cache.value_cache[11].shape) == (1, 12, 128, 64)


def test_gpt2_head_is_tied(meta_models):
    model = meta_models["gpt2"]
    assert model.lm_head.weight is model.wte.weight


def test_llama_head_is_not_tied(meta_models):
    model = meta_models["llama"]
    assert model.lm_head.weight is not model.embed_tokens.weight


def test_resnet50_layout(meta_models):
    model = meta_models["resnet50"]
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    for i in range(1, 5):
        stage = getattr(model, f"layer{i}")
        assert stage[0].downsample is not None
        assert all(block.downsample is None for block in stage[1:])


def test_factories_take_no_arguments():
    with torch.device("meta"):
        assert isinstance(resnet50_mod.resnet50(), ResNet50)
        assert isinstance(vit_mod.vit_b_16(), VisionTransformer)
        assert isinstance(gpt2_mod.gpt2(), GPT2)
        assert isinstance(llama_mod.llama_7b(), Llama)


def _causal_check(model: torch.nn.Module, vocab: int, tokens: int) -> None:
    """Logits are finite; changing the last token changes only the last position."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (1, tokens), generator=generator)
    changed = ids.clone()
    changed[0, -1] = (ids[0, -1] + 1) % vocab
    model.eval()
    with torch.no_grad():
        a, b = model(ids), model(changed)
    a = a.logits if isinstance(a, GPT2Output) else a
    b = b.logits if isinstance(b, GPT2Output) else b
    assert a.shape == (1, tokens, vocab)
    assert torch.isfinite(a).all() and torch.isfinite(b).all()
    torch.testing.assert_close(a[:, :-1], b[:, :-1], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, -1], b[:, -1])


def test_tiny_llama_runs_and_is_causal():
    torch.manual_seed(0)
    model = tiny_llama()
    assert next(model.parameters()).device.type == "cpu"
    _causal_check(model, vocab=256, tokens=llama_mod.TINY_INPUT_SHAPE[1])


def test_small_gpt2_runs_and_is_causal():
    torch.manual_seed(0)
    model = GPT2(vocab_size=100, n_positions=32, n_embd=64, n_layer=2, n_head=2)
    _causal_check(model, vocab=100, tokens=16)
    with torch.no_grad():
        out = model(torch.zeros(1, 16, dtype=torch.int64))
    assert len(out.past_key_values) == 2
    assert tuple(out.past_key_values.key_cache[1].shape) == (1, 2, 16, 32)
