# The `train` settings of the video configs: the runtime's keys (lgvit_engine) plus the video task's
# (epochs, batch sizes, workers, label smoothing). The lr schedule's shape is lr_multiplier in optim.py
# (30 epochs with 2 warm-up epochs and cosine decay, TimeSformer-like).
train = dict(
    output_dir="output/video/run",
    epochs=30,
    max_iter=None,  # a cap on the optimizer steps of the epochs (quick runs); the schedule spans them
    batch_size=8,  # clips per process and micro-step; 16 GPUs x 8 in the paper ("we trained with 16 GPUs")
    accum_steps=1,  # micro-steps per optimizer step
    test_batch_size=4,
    num_workers=8,
    amp=dict(enabled=True),  # on CUDA: bf16 where supported, else fp16 with a gradient scaler
    clip_grad=None,
    label_smoothing=0.0,  # mixup/cutmix smooth their own targets
    log_period=20,  # steps between log records (console, metrics.json, TensorBoard)
    eval_period=5,  # epochs between 3-crop evaluations (0: only at the end)
    checkpoint_period=1,  # epochs between checkpoints (model_<iter>.pth; model_final.pth at the end)
    # checkpointer.period: steps between checkpoints instead (mid-epoch); max_to_keep: how many of the
    # newest model_<iter>.pth stay (two: a damaged latest one still has an intact one to resume from)
    checkpointer=dict(period=None, max_to_keep=2),
    init_checkpoint="",  # video weights to start from (--weights); ImageNet weights: model.pretrained
    seed=0,
    device="auto",
)
