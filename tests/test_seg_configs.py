"""Segmentation configs and the UperNet head: every config instantiates; parameter counts against the
RegionViT tables (which include the backbone's unused ImageNet classifier); the ADE20K recipe; the UperNet
head's shapes, gradients, yacs registration and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("detectron2")

from detectron2.config import instantiate  # noqa: E402
from detectron2.evaluation import SemSegEvaluator  # noqa: E402
from detectron2.layers import ShapeSpec  # noqa: E402
from detectron2.modeling import SemanticSegmentor  # noqa: E402
from lgvit_det import UperNetHead, pyramid_shapes  # noqa: E402
from lgvit_det.engine import load_config  # noqa: E402

import lgvit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEG = REPO / "configs" / "segmentation"

# Independent copy of the papers' numbers (M): RegionViT Table 6 (S+/B+ w/ PEG) and Table A5 (S).
PAPER_PARAMS = {
    "semantic_fpn_regionvit_s_w14_peg": ("regionvit_s_w14_peg", 35.7),
    "semantic_fpn_regionvit_b_w14_peg": ("regionvit_b_w14_peg", 78.3),
    "semantic_fpn_regionvit_s": ("regionvit_s", 35.0),
}
# Detectron2's Semantic FPN (FPN 256, head 128 + GN, 150 classes) on the classifier-free backbones (M).
EXPECTED_NO_CLASSIFIER = {
    "semantic_fpn_regionvit_s_w14_peg": 34.97,
    "semantic_fpn_regionvit_b_w14_peg": 77.32,
    "semantic_fpn_regionvit_s": 34.19,
}
SHAPES_CONFIGS = ["semantic_fpn_regionvit_tiny_shapes", "upernet_regionvit_tiny_shapes"]


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_model(cfg):
    with torch.device("meta"):
        return instantiate(cfg.model)


def classifier_params(name: str) -> int:
    """The 1000-class ImageNet head (and its pre-logits norm if any) that the segmentation model drops."""
    with torch.device("meta"):
        full = lgvit.create_model(name, num_classes=1000)
        bare = lgvit.create_model(name, num_classes=0)
    return n_params(full) - n_params(bare) + n_params(getattr(bare, "norm", torch.nn.Identity()))


@pytest.mark.parametrize("config", sorted(PAPER_PARAMS))
def test_semantic_fpn_params_match_the_paper(config):
    cfg = load_config(str(SEG / f"{config}.py"))
    name, paper = PAPER_PARAMS[config]
    assert cfg.model.backbone.bottom_up.model.name == name
    model = meta_model(cfg)
    assert isinstance(model, SemanticSegmentor)
    ours = n_params(model) / 1e6
    assert ours == pytest.approx(EXPECTED_NO_CLASSIFIER[config], abs=0.01)
    with_classifier = ours + classifier_params(name) / 1e6
    print(f"{config}: {ours:.2f}M + classifier = {with_classifier:.2f}M (paper {paper}M)")
    assert with_classifier == pytest.approx(paper, rel=0.03)
    assert with_classifier == pytest.approx(paper, abs=0.06)  # the table's rounding, in fact


def test_classifier_sizes():
    assert classifier_params("regionvit_s") == 768 * 1000 + 1000 + 2 * 768  # head + final norm
    assert classifier_params("regionvit_b_w14_peg") == 1024 * 1000 + 1000 + 2 * 1024


def test_semantic_fpn_is_detectron2s_pieces_with_the_ade20k_recipe():
    cfg = load_config(str(SEG / "semantic_fpn_regionvit_s.py"))
    m = cfg.model
    assert m.backbone._target_.__name__ == "FPN" and m.backbone.top_block is None
    assert m.backbone.out_channels == 256 and list(m.backbone.in_features) == ["res2", "res3", "res4", "res5"]
    head = m.sem_seg_head
    assert head._target_.__name__ == "SemSegFPNHead"
    assert (head.num_classes, head.conv_dims, head.norm, head.ignore_value, head.loss_weight) == (
        150,
        128,
        "GN",
        255,
        1.0,
    )
    assert m.backbone.bottom_up.model.drop_path_rate == 0.2 and m.backbone.bottom_up.model.out_norms
    # optimizer and schedule (paper A.3)
    assert cfg.optimizer.lr == 1e-4 and cfg.optimizer.weight_decay == 0.05
    assert cfg.optimizer._target_ is torch.optim.AdamW
    assert cfg.lr_multiplier.scheduler.power == 0.9 and cfg.lr_multiplier.warmup_length == 0.0
    assert cfg.train.max_iter == 80000 and cfg.dataloader.train.total_batch_size == 16
    # data: Detectron2's ADE20K registration, 448 resize / crop, flip; whole-image evaluation
    train, test = cfg.dataloader.train, cfg.dataloader.test
    assert train.dataset.names == "ade20k_sem_seg_train" and test.dataset.names == "ade20k_sem_seg_val"
    resize, crop, flip = train.mapper.augmentations
    assert (resize.short_edge_length, resize.max_size) == (448, 1792)
    assert tuple(crop.crop_size) == (448, 448) and crop.crop_type == "absolute"
    assert flip.horizontal
    (test_resize,) = test.mapper.augmentations
    assert (test_resize.short_edge_length, test_resize.max_size) == (448, 1792)
    assert cfg.dataloader.evaluator._target_ is SemSegEvaluator
    assert cfg.dataloader.evaluator.dataset_name == "ade20k_sem_seg_val"
    assert (train.mapper.num_classes, train.mapper.ignore_label) == (150, 255)  # tied to the model
    assert (test.mapper.num_classes, test.mapper.image_format) == (150, "RGB")


def test_recipe_schedule_is_poly():
    cfg = load_config(str(SEG / "semantic_fpn_regionvit_s.py"))
    sched = instantiate(cfg.lr_multiplier)
    for where in (0.0, 0.25, 0.5, 0.9):
        assert sched(where) == pytest.approx((1 - where) ** 0.9, rel=1e-6)


@pytest.mark.parametrize("config", SHAPES_CONFIGS)
def test_synthetic_configs_run_a_training_and_an_inference_step(config):
    cfg = load_config(str(SEG / f"{config}.py"))
    assert cfg.model.sem_seg_head.num_classes == cfg.dataloader.train.mapper.num_classes == 4
    torch.manual_seed(0)
    model = instantiate(cfg.model)
    batch = [
        {
            "image": torch.randint(0, 255, (3, 64, 96), dtype=torch.uint8),
            "sem_seg": torch.randint(0, 4, (64, 96)),
        }
        for _ in range(2)
    ]
    batch[0]["sem_seg"][:10] = 255
    losses = model(batch)
    assert set(losses) == {"loss_sem_seg"} and torch.isfinite(losses["loss_sem_seg"])
    sum(losses.values()).backward()
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert trainable and not no_grad
    model.eval()
    with torch.no_grad():
        out = model([{"image": batch[0]["image"], "height": 32, "width": 48}])
    assert out[0]["sem_seg"].shape == (4, 32, 48)


def test_upernet_ade20k_description_instantiates():
    from detectron2.config import LazyConfig

    cfg = LazyConfig.load(str(SEG / "common" / "models" / "upernet_lgvit.py"))
    assert cfg.model.sem_seg_head.aux_in_feature == "res4" and cfg.model.sem_seg_head.norm == "SyncBN"
    model = meta_model(cfg)
    head = n_params(model.sem_seg_head) / 1e6
    aux = n_params(model.sem_seg_head.aux_head) / 1e6
    print(f"UperNet RegionViT-S: {n_params(model) / 1e6:.2f}M (head {head:.2f}M, aux {aux:.2f}M)")
    assert n_params(model.sem_seg_head) - n_params(model.sem_seg_head.aux_head) == upernet_main_params(
        (96, 192, 384, 768)
    )
    assert n_params(model.sem_seg_head.aux_head) == upernet_aux_params(384)


def upernet_main_params(channels, width=512, classes=150) -> int:
    """mmseg's UPerHead, counted by hand: PPM 4 x (c5 -> width) 1x1, bottleneck 3x3 on c5 + 4 pooled maps,
    1x1 laterals on c2..c4, three 3x3 FPN convs, the 3x3 fusion of 4 maps; each conv with a BN (2 params
    per channel), then the classifier."""
    *low, c5 = channels
    convs = 4 * c5 * width + (c5 + 4 * width) * width * 9 + sum(low) * width + 3 * width * width * 9
    convs += 4 * width * width * 9
    norms = 2 * width * (4 + 1 + 3 + 3 + 1)
    return convs + norms + width * classes + classes


def upernet_aux_params(c4, width=256, classes=150) -> int:
    """The auxiliary FCN head on res4: one 3x3 conv + BN, then the classifier."""
    return c4 * width * 9 + 2 * width + width * classes + classes


# RSIR Table 6 (M): UperNet RSIR-T 57, RSIR-B 109 -- an independent copy of tools/lgvit_tools/reference.py
RSIR_UPERNET = {
    "upernet_rsir_t": ("rsir_t", (64, 128, 256, 512), 57.0),
    "upernet_rsir_b": ("rsir_b", (96, 192, 384, 768), 109.0),
}


@pytest.mark.parametrize("config", sorted(RSIR_UPERNET))
def test_upernet_rsir_params_and_swin_recipe(config):
    """RSIR's UperNet (Table 6) is the backbone + the hand-counted head; the paper's totals are higher by
    about what its own backbone counts exceed the stated configuration (lgvit/models/README.md: RSIR)."""
    name, channels, paper = RSIR_UPERNET[config]
    cfg = load_config(str(SEG / f"{config}.py"))
    assert cfg.model.backbone.model.name == name and cfg.model.backbone.model.drop_path_rate == 0.3
    model = meta_model(cfg)
    head = model.sem_seg_head
    assert n_params(head) - n_params(head.aux_head) == upernet_main_params(channels)
    assert n_params(head.aux_head) == upernet_aux_params(channels[2])
    with torch.device("meta"):
        bare = lgvit.create_model(name, num_classes=0, out_norms=True)  # the detection norms in the path
    # the adapter keeps the detection norms and drops the classifier's final norm
    assert n_params(model.backbone) == n_params(bare) - n_params(bare.norm)
    total = n_params(model) / 1e6
    backbone, head_m = n_params(model.backbone) / 1e6, n_params(head) / 1e6
    print(f"{config}: {total:.2f}M (backbone {backbone:.2f}M, head {head_m:.2f}M); paper {paper}M")
    # Swin's mmseg UperNet recipe, which RSIR says it follows (section 4.4)
    assert (cfg.optimizer.lr, cfg.optimizer.weight_decay) == (6e-5, 0.01)
    assert cfg.train.max_iter == 160000 and cfg.dataloader.train.total_batch_size == 16
    sched = instantiate(cfg.lr_multiplier)
    assert sched(0.0) == pytest.approx(1e-6, rel=1e-3) and sched(0.5) == pytest.approx(0.5, rel=1e-3)
    assert tuple(cfg.dataloader.train.mapper.augmentations[1].crop_size) == (512, 512)
    resize = cfg.dataloader.train.mapper.augmentations[0]
    assert (min(resize.short_edge_length), max(resize.short_edge_length), resize.max_size) == (
        256,
        1024,
        2048,
    )


def upernet(**kw) -> UperNetHead:
    args = dict(num_classes=5, channels=32, norm="GN", dropout=0.0)
    args.update(kw)
    return UperNetHead(pyramid_shapes((16, 24, 40, 64)), **args)


def features(b=2, h=64, w=96, channels=(16, 24, 40, 64)):
    return {
        f"res{k}": torch.randn(b, c, h // 2**k, w // 2**k, requires_grad=True)
        for k, c in zip(range(2, 6), channels)
    }


def test_upernet_head_shapes_and_gradients():
    head = upernet(aux_in_feature="res4", dropout=0.1)
    feats = features()
    targets = torch.randint(0, 5, (2, 64, 96))
    targets[:, :4] = 255
    head.train()
    none, losses = head(feats, targets)
    assert none is None and set(losses) == {"loss_sem_seg", "loss_sem_seg_aux"}
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in head.parameters())
    assert all(feats[k].grad is not None and feats[k].grad.abs().sum() > 0 for k in feats)
    head.eval()
    logits, empty = head(features())
    assert logits.shape == (2, 5, 64, 96) and empty == {}


def test_upernet_aux_head_is_training_only_and_weighted():
    torch.manual_seed(0)
    with_aux = upernet(aux_in_feature="res4", aux_loss_weight=0.4)
    torch.manual_seed(0)
    without = upernet()
    feats, targets = features(), torch.randint(0, 5, (2, 64, 96))
    with_aux.train(), without.train()
    a, b = with_aux(feats, targets)[1], without(feats, targets)[1]
    torch.testing.assert_close(a["loss_sem_seg"], b["loss_sem_seg"])
    aux_logits = with_aux.aux_head(feats["res4"])
    ce = torch.nn.functional.cross_entropy(
        torch.nn.functional.interpolate(aux_logits, size=(64, 96), mode="bilinear", align_corners=False),
        targets,
    )
    torch.testing.assert_close(a["loss_sem_seg_aux"], 0.4 * ce)
    with_aux.eval(), without.eval()
    torch.testing.assert_close(with_aux(feats)[0], without(feats)[0])


def test_upernet_from_yacs_registry():
    from detectron2.config import get_cfg
    from detectron2.modeling import build_sem_seg_head

    cfg = get_cfg()
    cfg.MODEL.SEM_SEG_HEAD.NAME = "UperNetHead"
    cfg.MODEL.SEM_SEG_HEAD.IN_FEATURES = ["res2", "res3", "res4", "res5"]
    cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = 7
    cfg.MODEL.SEM_SEG_HEAD.CONVS_DIM = 32
    cfg.MODEL.SEM_SEG_HEAD.NORM = "GN"
    head = build_sem_seg_head(cfg, pyramid_shapes((16, 24, 40, 64)))
    assert isinstance(head, UperNetHead) and head.in_channels == [16, 24, 40, 64]
    head.eval()
    assert head(features())[0].shape == (2, 7, 64, 96)


def test_upernet_channel_mismatch_is_explained():
    head = upernet()
    with pytest.raises(ValueError, match=r"res5 with 64 channels .* backbone gives 48.*pyramid_shapes"):
        head(features(channels=(16, 24, 40, 48)))
    with pytest.raises(ValueError, match="aux_in_feature 'res6'"):
        upernet(aux_in_feature="res6")
    with pytest.raises(ValueError, match="common_stride=8 but the finest input map res2 has stride 4"):
        upernet(common_stride=8)


def test_pyramid_shapes():
    assert pyramid_shapes((8, 16)[:2], strides=(4, 8)) == {
        "res2": ShapeSpec(channels=8, stride=4),
        "res3": ShapeSpec(channels=16, stride=8),
    }
    with pytest.raises(ValueError, match="3 channel counts for 4 strides"):
        pyramid_shapes((1, 2, 3))


@pytest.mark.parametrize("config", sorted(p.stem for p in SEG.glob("*.py")))
def test_every_segmentation_config_instantiates(config):
    cfg = load_config(str(SEG / f"{config}.py"))
    model = meta_model(cfg)
    assert isinstance(model, SemanticSegmentor)
    assert cfg.dataloader.evaluator._target_ is SemSegEvaluator
    assert cfg.dataloader.train.mapper.num_classes == model.sem_seg_head.predictor.out_channels


def test_make_seg_dataset_tool(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_seg_dataset", REPO / "tools" / "make_seg_dataset.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--out", str(tmp_path), "--splits", "seg_shapes_val"]) == 0
    assert "seg_shapes_val: 16 images + label maps" in capsys.readouterr().out
    assert len(list((tmp_path / "seg_shapes_val" / "labels").glob("*.png"))) == 16
