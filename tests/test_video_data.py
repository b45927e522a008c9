"""Video data: sampling, decoding (decord vs PyAV), layouts, transforms, 3-crop test, bad inputs."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from video.data import (
    EvalClip,
    VideoClipDataset,
    VideoDecodeError,
    collate_videos,
    eval_transform,
    get_decoder,
    kinetics,
    kinetics_dataset,
    ssv2,
    ssv2_dataset,
    train_transform,
    uniform_sample_indices,
)
from video.data import functional as VF
from video.data.layouts import VideoList, VideoRecord
from video.data.mix import MixupCutmix
from video.data.synthetic import (
    CLASSES,
    make_motion_dataset,
    render_motion_clip,
    write_corrupt_video,
    write_video,
)

pytest.importorskip("av")
pytest.importorskip("decord")


@pytest.fixture(scope="module")
def motion(tmp_path_factory):
    return make_motion_dataset(
        tmp_path_factory.mktemp("motion"), train_per_class=2, val_per_class=1, num_frames=12, size=32
    )


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    frames = render_motion_clip("move_right", 12, 32, np.random.default_rng(1))
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, frames)
    return path, frames


# ------------------------------------------------------------------------------------------ sampling


def test_test_sampling_takes_segment_centres():
    assert uniform_sample_indices(80, 8) == [5, 15, 25, 35, 45, 55, 65, 75]


def test_train_sampling_stays_inside_segments():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        idx = uniform_sample_indices(80, 8, train=True, generator=g)
        assert [i // 10 for i in idx] == list(range(8))


@pytest.mark.parametrize("n", [1, 3, 7, 8])
@pytest.mark.parametrize("train", [False, True])
def test_short_videos_still_give_eight_frames(n, train):
    idx = uniform_sample_indices(n, 8, train=train)
    assert len(idx) == 8 and idx == sorted(idx) and 0 <= min(idx) and max(idx) < n
    assert set(idx) == set(range(n))  # every frame used, some repeated


def test_temporal_clips_are_distinct_and_ordered():
    clips = [uniform_sample_indices(90, 8, clip_index=k, num_clips=3) for k in range(3)]
    assert clips[0] < clips[1] < clips[2]
    assert all(len(set(c)) == 8 for c in clips)


def test_video_without_frames_is_an_error():
    with pytest.raises(ValueError, match="no frames"):
        uniform_sample_indices(0, 8)


# ------------------------------------------------------------------------------------------ decoding


def test_decord_and_pyav_agree_and_match_the_source(clip_file):
    path, source = clip_file
    every = lambda n: list(range(n))  # noqa: E731
    a = get_decoder("decord")(path, every)
    b = get_decoder("pyav")(path, every)
    assert a.shape == b.shape == (12, 32, 32, 3) and a.dtype == torch.uint8
    assert (a.float() - b.float()).abs().mean() < 1.0  # same FFmpeg decode; at most conversion rounding
    assert (
        a.float() - torch.from_numpy(source).float()
    ).abs().mean() < 6.0  # lossy codec, but the same video


@pytest.mark.parametrize("decoder", ["decord", "pyav"])
def test_decoders_return_requested_indices_in_order_with_repeats(clip_file, decoder):
    path, _ = clip_file
    every = get_decoder(decoder)(path, lambda n: list(range(n)))
    picked = get_decoder(decoder)(path, lambda n: [7, 0, 0, 11])
    torch.testing.assert_close(picked, every[[7, 0, 0, 11]])


def test_unknown_decoder_is_named():
    with pytest.raises(ValueError, match=r"unknown video decoder 'ffmpeg'.*decord.*pyav"):
        get_decoder("ffmpeg")


@pytest.mark.parametrize("decoder", ["decord", "pyav"])
@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty", "missing"])
def test_broken_videos_raise_video_decode_error(tmp_path, clip_file, decoder, kind):
    path = tmp_path / "broken.mp4"
    if kind != "missing":
        write_corrupt_video(path, kind, source=clip_file[0])
    with pytest.raises(VideoDecodeError) as err:
        get_decoder(decoder)(path, lambda n: [0])
    assert str(path) in str(err.value)


# ------------------------------------------------------------------------------------------- layouts


def test_kinetics_csv_space_and_comma_and_names(tmp_path):
    (tmp_path / "classes.txt").write_text("abseiling\nair drumming\n")
    (tmp_path / "a.csv").write_text("path label\nv/1.mp4 0\nv/2.mp4 1\n")
    (tmp_path / "b.csv").write_text("v/1.mp4,air drumming\nv/my video.mp4,abseiling\n")
    a = kinetics(tmp_path / "a.csv", num_classes=400)
    assert [r.label for r in a.records] == [0, 1] and a.records[0].path == str(tmp_path / "v/1.mp4")
    b = kinetics(tmp_path / "b.csv", classes=tmp_path / "classes.txt")
    assert [(r.path, r.label) for r in b.records] == [
        (str(tmp_path / "v/1.mp4"), 1),
        (str(tmp_path / "v/my video.mp4"), 0),
    ]
    assert b.classes == ("abseiling", "air drumming")


def test_kinetics_labels_not_in_class_map_are_listed(tmp_path):
    (tmp_path / "a.csv").write_text("v/1.mp4 0\nv/2.mp4 7\nv/3.mp4 juggling\n")
    with pytest.raises(ValueError, match=r"(?s)2 bad line\(s\).*line 2: label '7'.*line 3: label 'juggling'"):
        kinetics(tmp_path / "a.csv", classes=["a", "b"])


def test_kinetics_folder_tree(motion):
    videos = kinetics(motion.root / "train")
    assert videos.classes == CLASSES and len(videos) == 8
    assert {r.label for r in videos.records} == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="not in the class map"):
        kinetics(motion.root / "train", classes=["move_left"])


def test_ssv2_as_released(tmp_path):
    labels = {"Pushing something from left to right": "0", "Putting something on a surface": "1"}
    train = [
        {
            "id": "12",
            "label": "pushing a cup from left to right",
            "template": "Pushing [something] from left to right",
            "placeholders": ["a cup"],
        },
        {
            "id": "7",
            "label": "putting a pen on a table",
            "template": "Putting [something] on a surface",
            "placeholders": ["a pen"],
        },
    ]
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    (tmp_path / "train.json").write_text(json.dumps(train))
    (tmp_path / "validation.json").write_text(json.dumps(train[:1]))
    videos = ssv2(tmp_path, "train", video_root=tmp_path / "vids")
    assert [(r.path, r.label) for r in videos.records] == [
        (str(tmp_path / "vids/12.webm"), 0),
        (str(tmp_path / "vids/7.webm"), 1),
    ]
    assert len(ssv2(tmp_path, "validation")) == 1
    (tmp_path / "validation.json").write_text(json.dumps([{**train[0], "template": "Dancing [something]"}]))
    with pytest.raises(ValueError, match="Dancing something"):
        ssv2(tmp_path, "validation")


def test_ssv2_dataset_decodes_webm(tmp_path):
    frames = render_motion_clip("move_up", 10, 32, np.random.default_rng(0))
    (tmp_path / "videos").mkdir()
    write_video(tmp_path / "videos" / "5.webm", frames, codec="libvpx-vp9" if _has("libvpx-vp9") else None)
    (tmp_path / "labels.json").write_text(json.dumps({"Moving something up": "0"}))
    (tmp_path / "train.json").write_text(json.dumps([{"id": "5", "template": "Moving [something] up"}]))
    ds = ssv2_dataset(
        tmp_path, "train", transform=train_transform(min_size=32, max_size=40, crop_size=32, flip_prob=0)
    )
    assert ds[0]["video"].shape == (3, 8, 32, 32)


def _has(codec: str) -> bool:
    import av

    return codec in av.codecs_available


# ----------------------------------------------------------------------------------------- transforms


def test_three_crop_visits_three_distinct_crops_along_the_longer_side():
    H, W = 256, 341
    video = torch.arange(H * W, dtype=torch.float32).view(1, 1, H, W).expand(3, 2, H, W)
    crops = VF.three_crop(video, 224)
    assert crops.shape == (3, 3, 2, 224, 224)
    corners = [(int(c[0, 0, 0, 0]) // W, int(c[0, 0, 0, 0]) % W) for c in crops]
    assert corners == [(16, 0), (16, 59), (16, W - 224)]  # left, centre, right; vertically centred
    tall = VF.three_crop(video.transpose(-1, -2), 224)
    assert [int(c[0, 0, 0, 0]) % W for c in tall] == [0, 59, W - 224]  # top, centre, bottom rows (transposed)
    assert len({tuple(c.flatten()[:5].tolist()) for c in crops}) == 3


def test_test_pipeline_resizes_shorter_side_to_256_and_normalises():
    video = torch.full((3, 8, 240, 320), 128, dtype=torch.uint8)
    out = EvalClip()(video)
    assert out.shape == (3, 3, 8, 224, 224)
    torch.testing.assert_close(
        out[0, :, 0, 0, 0], (128 / 255 - torch.tensor(VF.IMAGENET_MEAN)) / torch.tensor(VF.IMAGENET_STD)
    )


def test_train_pipeline_shapes_and_range():
    video = torch.randint(0, 256, (3, 8, 240, 320), dtype=torch.uint8)
    out = train_transform()({"video": video, "label": 3})
    assert out["video"].shape == (3, 8, 224, 224) and out["label"] == 3
    scaled = VF.random_short_side_scale(video.float(), 256, 320)
    assert 256 <= min(scaled.shape[-2:]) <= 320


def test_tiny_resolution_is_scaled_up():
    video = torch.randint(0, 256, (3, 8, 6, 10), dtype=torch.uint8)
    assert EvalClip(short_side=32, crop_size=28)(video).shape == (3, 3, 8, 28, 28)
    with pytest.raises(ValueError, match="cannot take a 224x224 crop from a 6x10 clip"):
        VF.random_crop(video, 224)


def test_mixup_cutmix_gives_soft_targets():
    mix = MixupCutmix(num_classes=5)
    videos, targets = mix(torch.randn(4, 3, 2, 16, 16), torch.tensor([0, 1, 2, 3]))
    assert videos.shape == (4, 3, 2, 16, 16) and targets.shape == (4, 5)
    torch.testing.assert_close(targets.sum(1), torch.ones(4))
    _, single = mix(torch.randn(1, 3, 2, 16, 16), torch.tensor([2]))  # one clip: nothing to mix with
    assert single.argmax() == 2


# ------------------------------------------------------------------------------------------- dataset


@pytest.mark.parametrize("decoder", ["decord", "pyav"])
def test_dataset_test_mode_three_crops_and_temporal_clips(motion, decoder):
    ds = kinetics_dataset(
        motion.val_csv,
        classes=motion.classes_file,
        train=False,
        num_clips=2,
        decoder=decoder,
        transform=eval_transform(short_side=32, crop_size=28),
    )
    s = ds[0]
    assert s["video"].shape == (6, 3, 8, 28, 28)  # 2 temporal clips x 3 crops
    assert s["label"] == 0 and s["skipped"] == []


def test_short_and_tiny_videos_are_handled(tmp_path):
    short = tmp_path / "short.mp4"
    write_video(short, render_motion_clip("move_left", 3, 16, np.random.default_rng(0)))
    ds = VideoClipDataset(
        VideoList((VideoRecord(str(short), 1),), ("a", "b")),
        train=True,
        transform=train_transform(min_size=32, max_size=36, crop_size=32),
    )
    assert ds[0]["video"].shape == (3, 8, 32, 32)


def test_unreadable_videos_are_skipped_warned_and_counted(tmp_path, motion, caplog):
    good = next((motion.root / "val" / "move_up").iterdir())
    write_corrupt_video(tmp_path / "bad.mp4")
    records = (
        VideoRecord(str(tmp_path / "bad.mp4"), 0),
        VideoRecord(str(tmp_path / "gone.mp4"), 1),
        VideoRecord(str(good), 3),
    )
    videos = VideoList(records, CLASSES)
    with caplog.at_level(logging.WARNING):
        test = VideoClipDataset(
            videos, train=False, on_error="skip", transform=eval_transform(short_side=32, crop_size=28)
        )
        batch = collate_videos([test[i] for i in range(3)])
    assert batch["video"].shape == (1, 3, 3, 8, 28, 28) and batch["label"].tolist() == [3]
    assert batch["skipped"] == [str(tmp_path / "bad.mp4"), str(tmp_path / "gone.mp4")]
    assert "skipping video" in caplog.text and "gone.mp4: file does not exist" in caplog.text
    # training replaces them by readable videos so batches stay full
    train = VideoClipDataset(
        videos, train=True, transform=train_transform(min_size=32, max_size=32, crop_size=32)
    )
    torch.manual_seed(0)
    s = train[0]
    assert (
        s["video"].shape == (3, 8, 32, 32) and s["label"] == 3 and str(tmp_path / "bad.mp4") in s["skipped"]
    )
    dead = VideoClipDataset(VideoList(records[:2], CLASSES), train=True, max_retries=3)
    with pytest.raises(RuntimeError, match="in a row could not be decoded"):
        dead[0]
    empty = collate_videos([test[0]])
    assert empty["video"] is None and empty["skipped"] == [str(tmp_path / "bad.mp4")]
