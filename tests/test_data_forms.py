"""Data as users hold it (issue 23): Kinetics-400 as released (annotation CSV + downloader clip names, flat or
per class, some clips missing), class names with spaces, and awkward files (byte-order marks, CRLF,
duplicated class names) in every video list, class map and annotation file. The clips are real encoded
videos (H.264 / MPEG-4, VP9 .webm) written by :mod:`video.data.synthetic`."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest

from video.data import kinetics, kinetics_dataset, read_classes, ssv2
from video.data.synthetic import render_motion_clip, write_video

pytest.importorskip("av")

BOM = "\ufeff"
HEADER = "label,youtube_id,time_start,time_end,split"
# (label, youtube_id, start, end); ids as YouTube writes them (dashes, underscores)
ROWS = [
    ("riding a bike", "-abc_DEF123", 14, 24),
    ("riding a bike", "zz9-x_y8Q1w", 0, 10),
    ("air drumming", "Q-1_xyzABCD", 105, 115),
    ("abseiling", "a_b-c_d-e_f", 7, 17),
    ("abseiling", "gone_vid_01", 3, 13),  # missing on disk
    ("air drumming", "gone-vid-02", 40, 50),  # missing on disk
]
MISSING = {"gone_vid_01_000003_000013", "gone-vid-02_000040_000050"}
CLASSES = ("abseiling", "air drumming", "riding a bike")  # sorted labels: the standard index


def _clip(path, seed: int, codec: str | None = None) -> None:
    write_video(path, render_motion_clip("move_right", 4, 32, np.random.default_rng(seed)), codec=codec)


def _annotation_csv(path, rows=ROWS, bom: bool = False, crlf: bool = False) -> None:
    nl = "\r\n" if crlf else "\n"
    # every other label quoted, as CSV writers do when they like
    labels = [f'"{lab}"' if i % 2 else lab for i, (lab, *_) in enumerate(rows)]
    lines = [HEADER] + [f"{lab},{vid},{s},{e},train" for lab, (_, vid, s, e) in zip(labels, rows)]
    path.write_text((BOM if bom else "") + nl.join(lines) + nl, encoding="utf-8", newline="")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """Both downloader layouts of the same listed clips: flat (.mp4/.mkv/.webm) and per class folder
    (label folders, one with underscores for spaces), the two MISSING clips absent."""
    root = tmp_path_factory.mktemp("k400")
    exts = [".mp4", ".mkv", ".webm", ".mp4"]
    for i, (label, vid, s, e) in enumerate(ROWS[:4]):
        name = f"{vid}_{s:06d}_{e:06d}"
        ext = exts[i]
        codec = "libvpx-vp9" if ext == ".webm" else None
        _clip(root / "flat" / f"{name}{ext}", i, codec)
        folder = label.replace(" ", "_") if label == "air drumming" else label
        _clip(root / "per_class" / folder / f"{name}.mp4", i)
    _annotation_csv(root / "train.csv")
    return root


@pytest.mark.parametrize("layout", ["flat", "per_class"])
def test_released_kinetics_csv_labels_missing_count_and_list(released, layout, tmp_path, caplog):
    missing_list = tmp_path / "out" / "missing.csv"
    with caplog.at_level(logging.WARNING, logger="video.data.layouts"):
        videos = kinetics(released / "train.csv", video_root=released / layout, missing_list=missing_list)
    assert videos.classes == CLASSES
    got = sorted((r.path.split("/")[-1].rsplit(".", 1)[0], videos.classes[r.label]) for r in videos.records)
    want = sorted((f"{vid}_{s:06d}_{e:06d}", lab) for lab, vid, s, e in ROWS[:4])
    assert got == want
    assert set(videos.missing) == MISSING
    # counted and reported once: one summary line, and the missing rows in the annotation format
    lines = [r.getMessage() for r in caplog.records if "not under" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("2 of 6 clips listed") and str(missing_list) in lines[0]
    with open(missing_list, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {f"{r['youtube_id']}_{int(r['time_start']):06d}_{int(r['time_end']):06d}" for r in rows} == MISSING
    assert [r["label"] for r in rows] == ["abseiling", "air drumming"]


def test_released_kinetics_csv_error_mode_and_wrong_root(released, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"2 of 6 clips listed .* on_missing='skip' leaves them out"):
        kinetics(released / "train.csv", video_root=released / "flat", on_missing="error")
    with pytest.raises(FileNotFoundError, match="none of the 6 clips .* -abc_DEF123_000014_000024.mp4"):
        kinetics(released / "train.csv", video_root=tmp_path)
    with pytest.raises(ValueError, match="on_missing must be"):
        kinetics(released / "train.csv", video_root=released / "flat", on_missing="ignore")


def test_released_kinetics_csv_with_bom_crlf_and_a_given_class_map(released, tmp_path):
    _annotation_csv(tmp_path / "val.csv", ROWS[:3], bom=True, crlf=True)
    (tmp_path / "classes.txt").write_text(
        BOM + "\r\n".join(("abseiling", "air drumming", "juggling", "riding a bike")) + "\r\n"
    )
    videos = kinetics(
        tmp_path / "val.csv", video_root=released / "per_class", classes=tmp_path / "classes.txt"
    )
    assert videos.classes == ("abseiling", "air drumming", "juggling", "riding a bike")
    assert sorted(r.label for r in videos.records) == [1, 3, 3] and not videos.missing
    with pytest.raises(
        ValueError, match=r"1 label\(s\) are not in the class map of 2 classes: 'riding a bike'"
    ):
        kinetics(
            tmp_path / "val.csv", video_root=released / "per_class", classes=["abseiling", "air drumming"]
        )


def test_released_kinetics_dataset_decodes_every_container(released, tmp_path):
    ds = kinetics_dataset(
        released / "train.csv",
        video_root=released / "flat",
        train=False,
        num_frames=2,
        decoder="pyav",
        missing_list=tmp_path / "m.csv",
    )
    assert len(ds) == 4 and ds.videos.missing and (tmp_path / "m.csv").is_file()
    exts = set()
    for i in range(len(ds)):
        sample = ds[i]
        assert sample["video"].shape == (3, 2, 32, 32) and not sample["skipped"]
        exts.add(sample["video_name"].rsplit(".", 1)[1])
    assert exts == {"mp4", "mkv", "webm"}


def test_spaced_class_names_in_both_list_forms(tmp_path):
    (tmp_path / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    (tmp_path / "space.txt").write_text(
        "clips/a b.mp4 riding a bike\nclips/c.MKV air drumming\nclips/d.webm 0\n"
    )
    (tmp_path / "comma.csv").write_text(
        "clips/a b.mp4,riding a bike\nclips/c.MKV,air drumming\nclips/d.webm,0\n"
    )
    for name in ("space.txt", "comma.csv"):
        videos = kinetics(tmp_path / name, classes=tmp_path / "classes.txt")
        assert [(r.path, r.label) for r in videos.records] == [
            (str(tmp_path / "clips/a b.mp4"), 2),
            (str(tmp_path / "clips/c.MKV"), 1),
            (str(tmp_path / "clips/d.webm"), 0),
        ]
    # a path without a video extension is split at the last space; the error suggests the comma form
    (tmp_path / "noext.txt").write_text("clips/a riding a bike\n")
    with pytest.raises(ValueError, match=r"label 'bike' .* is the class 'a bike'\? Write '<path>,<label>'"):
        kinetics(tmp_path / "noext.txt", classes=tmp_path / "classes.txt")


def test_byte_order_marks_and_crlf_in_lists_class_maps_and_ssv2_json(tmp_path):
    (tmp_path / "classes.txt").write_text(BOM + "abseiling\r\nair drumming\r\n", encoding="utf-8")
    assert read_classes(tmp_path / "classes.txt") == ("abseiling", "air drumming")
    (tmp_path / "classes.json").write_text(BOM + json.dumps(["abseiling", "air drumming"]), encoding="utf-8")
    assert read_classes(tmp_path / "classes.json") == ("abseiling", "air drumming")
    # first video kept (it used to become "\ufeffv/1.mp4"), labels by name and by index
    (tmp_path / "list.csv").write_text(
        BOM + "v/1.mp4,air drumming\r\nv/2.mp4,abseiling\r\n", encoding="utf-8"
    )
    videos = kinetics(tmp_path / "list.csv", classes=tmp_path / "classes.txt")
    assert [(r.path, r.label) for r in videos.records] == [
        (str(tmp_path / "v/1.mp4"), 1),
        (str(tmp_path / "v/2.mp4"), 0),
    ]
    (tmp_path / "idx.txt").write_text(BOM + "path label\r\nv/1.mp4 1\r\n", encoding="utf-8")
    assert [r.label for r in kinetics(tmp_path / "idx.txt", num_classes=2).records] == [1]
    ann = tmp_path / "ssv2"
    ann.mkdir()
    (ann / "labels.json").write_text(BOM + json.dumps({"Pushing something": "0"}), encoding="utf-8")
    (ann / "train.json").write_text(
        BOM + json.dumps([{"id": "7", "template": "Pushing [something]"}]), encoding="utf-8"
    )
    assert ssv2(ann).records[0].path.endswith("videos/7.webm")
    (ann / "validation.json").write_text('[{"id": "7", "templ')
    with pytest.raises(ValueError, match="validation.json is not valid JSON"):
        ssv2(ann, "validation")


def test_duplicate_class_names_are_refused(tmp_path):
    (tmp_path / "classes.txt").write_text("abseiling\nair drumming\nabseiling\n")
    with pytest.raises(ValueError, match=r"names 1 class\(es\) more than once: 'abseiling'"):
        read_classes(tmp_path / "classes.txt")
    (tmp_path / "classes.json").write_text(json.dumps(["a", "b", "b"]))
    with pytest.raises(ValueError, match="more than once: 'b'"):
        read_classes(tmp_path / "classes.json")
    with pytest.raises(ValueError, match="more than once"):
        kinetics(tmp_path, classes=["a", "a"])
