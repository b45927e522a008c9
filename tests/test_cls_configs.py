"""Classification configs: every file loads; the ImageNet configs are RegionViT's Table A1 recipe (and the
SALG / RSIR recipes their papers state), with timm's transforms, optimizer groups and schedule."""

from __future__ import annotations

import math

import pytest
import torch
from cls_helpers import CLS_CONFIGS, DIGITS_CONFIG
from detectron2.config import instantiate
from lgvit_cls import REQUIRED
from lgvit_engine import ConfigError, load_config
from lgvit_engine.optim import no_decay_names
from timm.data import auto_augment
from timm.data.random_erasing import RandomErasing
from torchvision import transforms as T

import lgvit

ALL = sorted(CLS_CONFIGS.glob("*.py"))
IMAGENET = {"ti": "regionvit_ti", "s": "regionvit_s", "m": "regionvit_m", "b": "regionvit_b"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_config_loads_and_builds_its_model(path):
    cfg = load_config(path, required=REQUIRED, kind="classification")
    with torch.device("meta"):
        model = instantiate(cfg.model)
    assert model.num_classes == cfg.model.num_classes


@pytest.mark.parametrize("variant", sorted(IMAGENET))
def test_imagenet_configs_are_table_a1(variant):
    cfg = load_config(CLS_CONFIGS / f"imagenet_regionvit_{variant}.py", required=REQUIRED)
    assert (cfg.model.name, cfg.model.num_classes, cfg.model.drop_path_rate) == (IMAGENET[variant], 1000, 0.1)
    o, s, t, m = cfg.optimizer, cfg.scheduler, cfg.train, cfg.mixup
    assert (o.opt, o.lr, o.weight_decay, t.lr_base_batch) == ("adamw", 4e-3, 0.05, 4096)
    assert (s.sched, s.warmup_epochs, s.warmup_lr, t.epochs) == ("cosine", 50, 1e-6, 300)
    assert (m.mixup_alpha, m.cutmix_alpha, m.label_smoothing) == (0.8, 1.0, 0.1)
    assert t.repeats == (0 if variant == "ti" else 3)  # "disabled for RegionViT-Ti"
    assert t.batch_size * 32 == 4096  # 32 GPUs in the paper
    train_tf = cfg.dataloader.train.transform
    assert (train_tf.auto_augment, train_tf.re_prob, train_tf.input_size) == (
        "rand-m9-mstd0.5-inc1",
        0.25,
        224,
    )
    assert cfg.get("ema") is None and t.clip_grad is None


def test_imagenet_transforms_are_timms_randaugment_erasing_and_resize_256_crop_224():
    cfg = load_config(CLS_CONFIGS / "imagenet_regionvit_s.py", required=REQUIRED)
    train_tf = instantiate(cfg.dataloader.train.transform)
    ra = [t for t in train_tf.transforms if isinstance(t, auto_augment.RandAugment)]
    assert len(ra) == 1 and ra[0].num_layers == 2 and all(op.magnitude == 9 for op in ra[0].ops)
    assert all(op.magnitude_std == 0.5 for op in ra[0].ops)
    erase = [t for t in train_tf.transforms if isinstance(t, RandomErasing)]
    assert len(erase) == 1 and erase[0].probability == 0.25 and erase[0].mode == "pixel"
    val_tf = instantiate(cfg.dataloader.val.transform)
    resize, crop = val_tf.transforms[0], val_tf.transforms[1]
    assert isinstance(resize, T.Resize) and resize.size == 256
    assert isinstance(crop, T.CenterCrop) and crop.size == (224, 224)
    out = val_tf(T.functional.to_pil_image(torch.rand(3, 300, 400)))
    assert out.shape == (3, 224, 224)


def test_optimizer_groups_follow_the_model_and_the_schedule_warms_up_then_decays():
    cfg = load_config(CLS_CONFIGS / "imagenet_regionvit_s.py", required=REQUIRED)
    model = lgvit.create_model("regionvit_ti", num_classes=10, dims=(32, 64, 128, 256), heads=(1, 2, 4, 8))
    node = cfg.optimizer
    node.model_or_params = model
    opt = instantiate(node)
    del node.model_or_params
    by_decay = {g["weight_decay"]: {id(p) for p in g["params"]} for g in opt.param_groups}
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay = {names[i] for i in by_decay[0.0]}
    assert no_decay == no_decay_names(model)
    assert any(n.endswith("rel_pos") for n in no_decay)  # from the model's no_weight_decay()
    assert {names[i] for i in by_decay[0.05]} == set(names.values()) - no_decay
    node = cfg.scheduler
    node.update(optimizer=opt, num_epochs=300, step_on_epochs=False, updates_per_epoch=10)
    sched, epochs = instantiate(node)
    assert epochs == 300
    lrs = []
    for step in (0, 250, 500, 3000):
        sched.step_update(step)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(1e-6)
    assert lrs[1] == pytest.approx(1e-6 + (4e-3 - 1e-6) * 0.5)  # linear warm-up over 50 epochs
    # timm (and DeiT, RegionViT's code base): the cosine spans the whole run, warm-up included
    assert lrs[2] == pytest.approx(1e-5 + 0.5 * (4e-3 - 1e-5) * (1 + math.cos(math.pi * 500 / 3000)))
    assert lrs[3] == pytest.approx(1e-5)  # cosine down to min_lr


@pytest.mark.parametrize(
    "recipe, lr, base_batch",
    [("swin_in1k", 5e-4, 512), ("salg_in1k", 5e-4, 128), ("rsir_in1k", 1e-3, 256)],
)
def test_swin_style_recipes_of_salg_and_rsir(recipe, lr, base_batch):
    """The recipes SALG and RSIR variant configs will import (their model names are set there)."""
    cfg = load_config(CLS_CONFIGS / "common" / f"{recipe}.py", required=REQUIRED)
    assert (cfg.optimizer.lr, cfg.train.lr_base_batch, cfg.optimizer.weight_decay) == (lr, base_batch, 0.05)
    assert (cfg.scheduler.warmup_epochs, cfg.train.epochs, cfg.train.clip_grad, cfg.train.repeats) == (
        20,
        300,
        5.0,
        0,
    )
    with pytest.raises(Exception, match="name"):
        instantiate(cfg.model)  # no model named yet: a variant config sets model.name


def test_digits_config_and_a_classification_config_elsewhere():
    cfg = load_config(DIGITS_CONFIG, required=REQUIRED)
    assert cfg.model.num_classes == 10 and cfg.get("mixup") is None and cfg.train.device == "cpu"
    with pytest.raises(ConfigError, match="looks like a classification"):
        load_config(DIGITS_CONFIG, required=("lr_multiplier",), kind="detection")
