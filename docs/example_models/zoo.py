"""Real architectures from ``transformers`` and ``diffusers``, built from their config classes.

One zero-argument factory per architecture returns the ``nn.Module`` (the
directive's target, e.g. ``example_models.zoo:llama``); where a plain
``:input-shape:`` is not enough, an ``*_inputs`` function returns the
example inputs (the directive's ``:inputs:``).  :data:`ZOO` lists every
entry once, with its inputs as the directive would take them; the test
(``tests/test_zoo.py``) and the benchmark (``benchmarks/zoo.py``) both read it.

Nothing is downloaded: no ``from_pretrained``, no weights, and the Hugging
Face hub is switched off (``HF_HUB_OFFLINE=1``) before either library is
imported.  Configs are the library defaults (GPT-2 small, BERT-base,
ViT-B/16, Swin-T, ConvNeXt-T, ResNet-50, whisper-tiny, T5-small...), except
where drawing the default took more than ~10 s here (2 cores; almost all of
it the ONNX export of every layer): LLaMA-7B, Mistral-7B and the other big
ones keep every width, head count, vocabulary and characteristic part (MoE
routers and experts, selective scans, cross-attention) and only have fewer
repeated layers.  :attr:`ZooEntry.config` says what was
changed, and how long the default took.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub, even for a config or a tokenizer
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DISABLE_TELEMETRY", "1")  # diffusers' own switch

from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

MODULE = __name__

#: tokens in one example sequence (a batch of one)
SEQ = 32
#: the layers kept where a default has too many to export in ~10 s (≥ 2, so that they fold)
FEW_LAYERS = 4


# --------------------------------------------------------------------------- decoder LLMs

def llama():
    """LLaMA-7B's config (hidden 4096, 32 heads, vocab 32,000) with 4 of its 32 layers."""
    from transformers import LlamaConfig, LlamaForCausalLM

    return LlamaForCausalLM(LlamaConfig(num_hidden_layers=FEW_LAYERS))


def mistral():
    """Mistral-7B's config (grouped-query attention: 32 query / 8 KV heads) with 4 of 32 layers."""
    from transformers import MistralConfig, MistralForCausalLM

    return MistralForCausalLM(MistralConfig(num_hidden_layers=FEW_LAYERS))


def qwen2():
    """Qwen2's default config (hidden 4096, vocab 151,936, QKV biases) with 4 of 32 layers."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    return Qwen2ForCausalLM(Qwen2Config(num_hidden_layers=FEW_LAYERS))


def gpt2():
    """GPT-2 small, the default config: 12 layers, hidden 768, learned positions."""
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(GPT2Config())


def gemma():
    """Gemma-7B's config (hidden 3072, head dim 256, vocab 256,000) with 4 of 28 layers."""
    from transformers import GemmaConfig, GemmaForCausalLM

    return GemmaForCausalLM(GemmaConfig(num_hidden_layers=FEW_LAYERS))


def phi():
    """Phi's default config (phi-2 sized: hidden 2048, partial rotary, parallel attention + MLP),
    4 of 24 layers."""
    from transformers import PhiConfig, PhiForCausalLM

    return PhiForCausalLM(PhiConfig(num_hidden_layers=FEW_LAYERS))


# --------------------------------------------------------------------------- MoE decoders

def mixtral():
    """Mixtral-8x7B's config (8 experts, top-2 router per layer) with 4 of 32 layers."""
    from transformers import MixtralConfig, MixtralForCausalLM

    return MixtralForCausalLM(MixtralConfig(num_hidden_layers=FEW_LAYERS))


def qwen2_moe():
    """Qwen2-MoE's default config (60 routed experts, top-4, plus a gated shared expert),
    4 of 24 layers."""
    from transformers import Qwen2MoeConfig, Qwen2MoeForCausalLM

    return Qwen2MoeForCausalLM(Qwen2MoeConfig(num_hidden_layers=FEW_LAYERS))


# --------------------------------------------------------------------------- state-space models

def mamba():
    """Mamba's default config (hidden 768, state 16, the selective scan in PyTorch) with 4 of
    32 layers."""
    from transformers import MambaConfig, MambaForCausalLM

    return MambaForCausalLM(MambaConfig(num_hidden_layers=FEW_LAYERS))


def mamba2():
    """Mamba2's default config (hidden 4096, 128 heads, state 128, chunked SSD scan) with 4 of
    64 layers."""
    from transformers import Mamba2Config, Mamba2ForCausalLM

    return Mamba2ForCausalLM(Mamba2Config(num_hidden_layers=FEW_LAYERS))


# --------------------------------------------------------------------------- audio encoders

def whisper_encoder():
    """The encoder of Whisper's default config (whisper-tiny: 2 convolutions, 4 layers, d 384)."""
    from transformers import WhisperConfig, WhisperModel

    return WhisperModel(WhisperConfig()).get_encoder()


def wav2vec2():
    """Wav2Vec2-base, the default config: a 7-layer convolutional feature encoder, a
    convolutional position embedding, 12 transformer layers."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    return Wav2Vec2Model(Wav2Vec2Config())


# --------------------------------------------------------------------------- encoder-decoders

def t5():
    """T5-small, the default config: 6 encoder and 6 decoder blocks, relative position bias."""
    from transformers import T5Config, T5ForConditionalGeneration

    return T5ForConditionalGeneration(T5Config())


def t5_inputs():
    """T5 needs the decoder's tokens too: 32 source tokens, 16 target tokens."""
    return {"input_ids": torch.zeros(1, SEQ, dtype=torch.int64),
            "decoder_input_ids": torch.zeros(1, SEQ // 2, dtype=torch.int64)}


def bart():
    """BART-large's config (d 1024, 16 heads, vocab 50,265) with 2 of its 12 encoder and 2 of its
    12 decoder layers."""
    from transformers import BartConfig, BartForConditionalGeneration

    return BartForConditionalGeneration(BartConfig(encoder_layers=2, decoder_layers=2))


# --------------------------------------------------------------------------- encoders

def bert():
    """BERT-base, the default config."""
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig())


def roberta():
    """RoBERTa-base, the default config."""
    from transformers import RobertaConfig, RobertaModel

    return RobertaModel(RobertaConfig())


# --------------------------------------------------------------------------- vision

def vit():
    """ViT-B/16, the default config (224×224, 16×16 patches, 12 layers)."""
    from transformers import ViTConfig, ViTModel

    return ViTModel(ViTConfig())


def swin():
    """Swin-T, the default config: 4 stages (2, 2, 6, 2 blocks) of 7×7 windows, every other
    block shifted, patch merging between stages."""
    from transformers import SwinConfig, SwinModel

    return SwinModel(SwinConfig())


def convnext():
    """ConvNeXt-T, the default config: 4 stages of (3, 3, 9, 3) depthwise-7×7 blocks."""
    from transformers import ConvNextConfig, ConvNextModel

    return ConvNextModel(ConvNextConfig())


def resnet():
    """ResNet-50 as ``transformers`` builds it, the default config: bottlenecks (3, 4, 6, 3)."""
    from transformers import ResNetConfig, ResNetModel

    return ResNetModel(ResNetConfig())


# --------------------------------------------------------------------------- diffusion

def unet2d():
    """``UNet2DModel``'s default config (DDPM-style: 4 levels of 224-896 channels, 2 ResNet
    blocks per level, self-attention at the lower levels) on 64×64 images."""
    from diffusers import UNet2DModel

    return UNet2DModel(sample_size=64)


def unet2d_inputs():
    """A noisy 64×64 RGB image and its timestep."""
    return (torch.randn(1, 3, 64, 64), torch.tensor([10]))


def unet2d_condition():
    """``UNet2DConditionModel``'s default config (Stable Diffusion 1.x: 320-1280 channels,
    cross-attention transformers) with CLIP-L's 768-wide text states, on 64×64 latents; one
    ResNet block (and one transformer) per level instead of two."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(sample_size=64, cross_attention_dim=768, layers_per_block=1)


def unet2d_condition_inputs():
    """4-channel 64×64 latents, a timestep, 77 text-encoder states."""
    return (torch.randn(1, 4, 64, 64), torch.tensor([10]), torch.randn(1, 77, 768))


def dit():
    """``DiTTransformer2DModel``'s default config (DiT-XL/2: hidden 1152, 16 heads, adaLN-Zero,
    patch 2 on 32×32 latents) with 4 of its 28 blocks."""
    from diffusers import DiTTransformer2DModel

    return DiTTransformer2DModel(num_layers=FEW_LAYERS)


def dit_inputs():
    """4-channel 32×32 latents, a timestep and an ImageNet class label."""
    return {"hidden_states": torch.randn(1, 4, 32, 32), "timestep": torch.tensor([10]),
            "class_labels": torch.tensor([1])}


def vae():
    """Stable Diffusion's VAE config (``AutoencoderKL`` with 128-512 channels over 4 levels,
    4 latent channels; the class's own default is a 1-level toy), on 256×256 images."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=("DownEncoderBlock2D",) * 4,
                         up_block_types=("UpDecoderBlock2D",) * 4,
                         block_out_channels=(128, 256, 512, 512), layers_per_block=2, sample_size=256)


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class ZooEntry:
    """One architecture: where it is and how the directive would be told to draw it."""

    name: str
    family: str
    #: the directive's target, ``example_models.zoo:<name>``
    target: str
    #: ``:input-shape:``, one tuple per input (empty when ``inputs`` is given)
    input_shapes: tuple[tuple[int, ...], ...] = ()
    #: ``:input-dtype:``
    input_dtypes: tuple[str, ...] = ()
    #: ``:inputs:``, the import path of a function returning the inputs
    inputs: str | None = None
    #: ``:dtype:``, what the model is built in (``auto``: as it builds itself)
    dtype: str = "auto"
    #: ``:depth:``
    depth: int = 2
    #: whether it has two or more identical blocks in a row (so the diagram folds them, ×N)
    repeats: bool = True
    #: how the config differs from the library's default, and why
    config: str = "default"

    def spec_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``sphinx_netviz.spec.DiagramSpec`` (add ``onnx`` etc.)."""
        kwargs: dict[str, Any] = {"target": self.target, "depth": self.depth}
        if self.inputs:
            kwargs["inputs"] = self.inputs
        else:
            kwargs["input_shapes"] = self.input_shapes
            kwargs["input_dtypes"] = self.input_dtypes
        if self.dtype != "auto":
            kwargs["dtype"] = self.dtype
        return kwargs

    def directive(self) -> str:
        """The reST directive that draws this entry."""
        lines = [f".. netviz:: {self.target}"]
        if self.inputs:
            lines.append(f"   :inputs: {self.inputs}")
        else:
            lines.append("   :input-shape: " + ", ".join(f"({', '.join(map(str, s))})" for s in self.input_shapes)
                         if len(self.input_shapes) > 1 else
                         "   :input-shape: " + ", ".join(map(str, self.input_shapes[0])))
        if self.input_dtypes:
            lines.append(f"   :input-dtype: {', '.join(self.input_dtypes)}")
        if self.dtype != "auto":
            lines.append(f"   :dtype: {self.dtype}")
        if self.depth != 2:
            lines.append(f"   :depth: {self.depth}")
        return "\n".join(lines)

    def build(self) -> torch.nn.Module:
        """The model, built by its factory (on the current default device)."""
        model = globals()[self.target.partition(":")[2]]()
        if self.dtype != "auto":
            model = model.to(getattr(torch, self.dtype))
        return model.eval()

    def example_inputs(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` as the directive makes them (float inputs in :attr:`dtype`), on the CPU."""
        cast = None if self.dtype == "auto" else getattr(torch, self.dtype)

        def fix(t: torch.Tensor) -> torch.Tensor:
            return t.to(cast) if cast is not None and t.is_floating_point() else t

        if self.inputs:
            value = globals()[self.inputs.partition(":")[2]]()
            if isinstance(value, torch.Tensor):
                return (fix(value),), {}
            if isinstance(value, dict):
                return (), {k: fix(v) for k, v in value.items()}
            return tuple(fix(v) for v in value), {}
        generator = torch.Generator().manual_seed(0)
        dtypes = self.input_dtypes or ("float32",)
        dtypes = dtypes * len(self.input_shapes) if len(dtypes) == 1 else dtypes
        args = []
        for shape, name in zip(self.input_shapes, dtypes):
            dtype = getattr(torch, name)
            args.append(fix(torch.randn(shape, generator=generator)) if dtype.is_floating_point
                        else torch.zeros(shape, dtype=dtype))
        return tuple(args), {}


def _tokens(name: str, family: str, **more: Any) -> ZooEntry:
    return ZooEntry(name, family, f"{MODULE}:{name}", ((1, SEQ),), ("int64",), **more)


def _image(name: str, family: str, shape: tuple[int, ...], **more: Any) -> ZooEntry:
    return ZooEntry(name, family, f"{MODULE}:{name}", (shape,), **more)


def _called(name: str, family: str, **more: Any) -> ZooEntry:
    return ZooEntry(name, family, f"{MODULE}:{name}", inputs=f"{MODULE}:{name}_inputs", **more)


#: what a shrunk entry keeps; the seconds are the default config's, drawn (with ONNX) in a warm
#: process like the test's, on this project's 2-core machine
_SHRUNK = "{kept} of {default} layers (the default took {seconds} s)"

ZOO: list[ZooEntry] = [
    _tokens("llama", "decoder LLM", config=_SHRUNK.format(kept=4, default=32, seconds=15.5)),
    _tokens("mistral", "decoder LLM", config=_SHRUNK.format(kept=4, default=32, seconds=18.0)),
    _tokens("qwen2", "decoder LLM", config=_SHRUNK.format(kept=4, default=32, seconds=11.8)),
    _tokens("gpt2", "decoder LLM"),
    _tokens("gemma", "decoder LLM", config=_SHRUNK.format(kept=4, default=28, seconds=20.9)),
    _tokens("phi", "decoder LLM", config=_SHRUNK.format(kept=4, default=24, seconds=13.2)),
    # their meta kernels (torch._grouped_mm) take bfloat16 only: drawn in bfloat16, as they would run
    _tokens("mixtral", "MoE decoder", dtype="bfloat16",
            config=_SHRUNK.format(kept=4, default=32, seconds=16.4) + "; bfloat16"),
    _tokens("qwen2_moe", "MoE decoder", dtype="bfloat16",
            config=_SHRUNK.format(kept=4, default=24, seconds=13.9) + "; bfloat16"),
    _tokens("mamba", "state-space", config=_SHRUNK.format(kept=4, default=32, seconds=64.2)
            + ", its ONNX export cut off by netviz_export_timeout (60 s): a graph-only file"),
    _tokens("mamba2", "state-space", config=_SHRUNK.format(kept=4, default=64, seconds=48.6)),
    # depth 3: at depth 2 its four layers are plain boxes, with no cluster around them
    _image("whisper_encoder", "audio encoder", (1, 80, 3000), depth=3, config="default; depth 3"),
    _image("wav2vec2", "audio encoder", (1, 16000)),
    _called("t5", "encoder-decoder"),
    _tokens("bart", "encoder-decoder", config="2 + 2 of 12 + 12 layers (the default took 37.1 s: its "
            "decoder calls .item() on meta, so it is built for real, 1.6 GB)"),
    _tokens("bert", "encoder"),
    _tokens("roberta", "encoder"),
    _image("vit", "vision transformer", (1, 3, 224, 224)),
    # shifted and unshifted window blocks alternate: no two identical blocks in a row
    _image("swin", "vision (windowed attention)", (1, 3, 224, 224), repeats=False),
    _image("convnext", "conv vision", (1, 3, 224, 224)),
    _image("resnet", "conv vision", (1, 3, 224, 224)),
    # a U-Net's blocks alternate ResNet and attention, and change width: nothing repeats in a row
    _called("unet2d", "diffusion U-Net", repeats=False),
    _called("unet2d_condition", "diffusion U-Net", repeats=False,
            config="1 of 2 ResNet + transformer blocks per level (the default took 14.7 s)"),
    _called("dit", "diffusion transformer", config=_SHRUNK.format(kept=4, default=28, seconds=12.5)),
    _image("vae", "VAE", (1, 3, 256, 256), config="Stable Diffusion's VAE (the class default is a 1-level toy)"),
]

BY_NAME: dict[str, ZooEntry] = {entry.name: entry for entry in ZOO}
