"""The CPU-tiny settings shared by the synthetic-data configs (``configs/shapes/*``), applied to a COCO
detector config by :func:`cpu_tiny`: the tiny RegionViT (``models/regionvit_tiny.py``), a 64-wide FPN and
narrow heads, fewer proposals and RoIs, and a 200-iteration schedule of the same shape (lr drops at 2/3
and 8/9, warm-up 30 iterations) with a from-scratch learning rate. A few minutes on 2 CPU cores."""

from .models.regionvit_tiny import regionvit_tiny

FPN_WIDTH = 64
HEAD_CONVS = [64, 64]
MAX_ITER = 200


def cpu_tiny(model, optimizer, lr_multiplier, train, output_dir: str) -> None:
    """Edits the descriptions in place (builds nothing): any of the three detectors' ``model``, the
    ``optimizer``, ``lr_multiplier`` and ``train`` of its COCO config; ``output_dir`` names the run."""
    model.backbone.bottom_up.model = regionvit_tiny
    model.backbone.out_channels = FPN_WIDTH
    if "roi_heads" in model:  # Mask / Keypoint R-CNN
        rpn, roi = model.proposal_generator, model.roi_heads
        rpn.head.in_channels = FPN_WIDTH
        rpn.batch_size_per_image = 64
        rpn.pre_nms_topk = (1000, 500)
        rpn.post_nms_topk = (300, 100)
        roi.batch_size_per_image = 64
        roi.box_head.input_shape.channels = FPN_WIDTH
        roi.box_head.fc_dims = [256, 256]
        roi.box_predictor.input_shape.channels = 256
        for name in ("mask_head", "keypoint_head"):
            if name in roi:
                roi[name].input_shape.channels = FPN_WIDTH
                roi[name].conv_dims = HEAD_CONVS
    else:  # RetinaNet
        for shape in model.head.input_shape:
            shape.channels = FPN_WIDTH
        model.head.conv_dims = HEAD_CONVS

    optimizer.lr = 1e-3  # from scratch, batch 4: a larger step than fine-tuning's 1e-4
    lr_multiplier.warmup_length = 30 / MAX_ITER
    train.max_iter = MAX_ITER
    train.amp.enabled = False
    train.checkpointer.period = MAX_ITER
    train.eval_period = MAX_ITER
    train.log_period = 20
    train.seed = 0
    train.output_dir = output_dir
