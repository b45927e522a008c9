# Plain values for video.engine.trainer.TrainSettings (the lr schedule's shape is lr_multiplier in
# optim.py: 30 epochs with 2 warmup epochs and cosine decay, TimeSformer-like).
train = dict(
    output_dir="output/video/run",
    epochs=30,
    batch_size=8,  # clips per process; 16 GPUs x 8 in the paper's setting ("we trained with 16 GPUs")
    test_batch_size=4,
    num_workers=8,
    accum_steps=1,
    amp="auto",  # on with CUDA
    clip_grad=None,
    label_smoothing=0.0,  # mixup/cutmix smooth their own targets
    log_period=20,
    checkpoint_steps=0,
    eval_period=5,
    max_steps=None,
    seed=0,
    device="auto",
)
