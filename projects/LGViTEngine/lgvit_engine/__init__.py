"""lgvit_engine: the one training runtime of every lgvit task, on Detectron2's engine.

Detection and segmentation (``projects/LGViTDet/train_net.py``), classification
(``projects/LGViTCls/train_net.py``) and video (``video/train.py``) all train through
:func:`~lgvit_engine.train.do_train`: Detectron2's ``TrainerBase`` with one ``run_step`` (gradient
accumulation, AMP on CUDA, gradient clipping), the hooks ``IterationTimer``, ``LRScheduler``,
``PeriodicCheckpointer``, ``EvalHook`` and ``PeriodicWriter(default_writers(...))`` (console, JSON lines in
``output_dir/metrics.json``, TensorBoard events), :class:`~lgvit_engine.checkpoint.Checkpointer` (atomic
saves, newest intact checkpoint on ``--resume``) and Detectron2's ``launch`` (any number of processes;
``torchrun`` works too). ``import lgvit`` never imports this package.

How a task plugs in
-------------------
A task is a :class:`~lgvit_engine.task.Task` subclass that supplies only what is its own; everything else
has a default that reads the config::

    class MyTask(Task):
        name = "my_task"                         # its logger ("my_task" info lines are shown)
        kind = "my task"                         # in messages: "... is not a my task config"
        required_keys = ("model", "dataloader.train", "optimizer", "train.max_iter")

        def build_train_loader(self, cfg, start_iter, seed):  # batches from iteration start_iter on
            ...                          # (resumable: no batch seen twice; lgvit_engine.data.EpochLoader
                                         # does it for map-style datasets, per-sample seeded)
        def loss(self, model, batch):                    # default: model(batch), a dict of losses
            ...                                          # (mixup / soft targets go here)
        def evaluate(self, cfg, model):                  # -> {"top1": ...} / {"bbox": {...}}
            ...
        def load_weights(self, model, path):             # train.init_checkpoint / --weights, checked
            ...

    sys.exit(lgvit_engine.run(MyTask(), lgvit_engine.parse_args(epilog=__doc__)))

Optional overrides: ``build_model`` (default ``instantiate(cfg.model)``), ``build_optimizer`` (default:
Detectron2's protocol ``cfg.optimizer.params.model = model``; :func:`lgvit_engine.optim.param_groups` is
the one parameter-group builder), ``max_iter`` and ``periods`` (an epoch-based task derives them from
``train.epochs``: subclass :class:`~lgvit_engine.task.EpochTask` and supply ``epoch_size``), ``lr_scheduler``
(default ``instantiate(cfg.lr_multiplier)`` for Detectron2's ``LRScheduler`` hook; None when a hook
steps the schedule), ``build_hooks`` (extra hooks: EMA, a timm schedule, task counters; a hook's
``state_dict()`` is saved in every checkpoint and restored on resume), ``load_eval_weights``
(``--eval-only``), ``check_config`` (per-task checks before anything starts), ``add_arguments`` (extra
CLI flags), ``user_errors`` (the task's exception types that mean bad input: exit status 2).
``projects/LGViTCls/lgvit_cls/engine.py`` is a complete epoch-based example (timm schedule, EMA, mixup,
accumulation); ``projects/LGViTDet/lgvit_det/engine.py`` an iteration-based one on Detectron2's loaders.

The config is the one settings source. ``train`` keys the runtime reads (every one optional except
``output_dir`` and the iteration count the task gives): ``device`` ("cpu", "cuda" or "auto"), ``seed``,
``amp.enabled``, ``accum_steps``, ``clip_grad``, ``ddp``, ``checkpointer.period`` / ``max_to_keep``,
``eval_period``, ``log_period``, ``init_checkpoint``. :func:`lgvit_engine.config.check_settings` refuses
impossible values (``max_iter=-5``, ``batch_size=0``, ``epochs=0``, ``device=cuda`` without CUDA)
before anything starts.

Command line (:func:`parse_args`): Detectron2's ``--config-file``, ``--resume``, ``--eval-only``,
``--num-gpus`` / ``--num-machines`` / ``--machine-rank`` / ``--dist-url``, ``key=value`` overrides (Python
literals, tuples included; a typo is refused naming the close matches), plus ``--num-threads`` and
``--weights``. :func:`run` loads and checks the config once, launches, and turns every foreseeable error
(config, data, device, weights: :data:`USER_ERRORS`) into one ``error: ...`` line and exit status 2.

Users' own configs may live in any folder: import a shipped config by path with
:func:`lgvit_engine.config.get_config` (``model_zoo.get_config``-style, relative to ``configs/``) or
``LazyConfig.load``; registering a dataset inside a config is safe (the config is loaded once per
process).
"""

from .checkpoint import Checkpointer, resume_checkpoint
from .cli import USER_ERRORS, parse_args, run
from .config import ConfigError, check_settings, get_config, instantiate, load_config
from .optim import no_decay_names, param_groups
from .task import EpochTask, Task
from .train import Trainer, do_test, do_train, main
from .weights import load_weights, read_weights

__all__ = [
    "USER_ERRORS",
    "Checkpointer",
    "ConfigError",
    "EpochTask",
    "Task",
    "Trainer",
    "check_settings",
    "do_test",
    "do_train",
    "get_config",
    "instantiate",
    "load_config",
    "load_weights",
    "main",
    "no_decay_names",
    "param_groups",
    "parse_args",
    "read_weights",
    "resume_checkpoint",
    "run",
]
