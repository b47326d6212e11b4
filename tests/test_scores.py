"""Dice, detection scores, per-video grouping and the threshold sweep, checked by hand."""

import math

import numpy as np
import pytest

from dfseg_tf.evaluation import scores, threshold


def test_dice_of_two_empty_maps_is_one():
    empty = np.zeros((4, 4), dtype=bool)
    assert scores.dice_score(empty, empty) == 1.0


def test_dice_of_an_empty_prediction_on_a_fake_mask_is_zero():
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, 0] = True
    assert scores.dice_score(np.zeros((4, 4), dtype=bool), mask) == 0.0


def test_dice_counts_the_overlap():
    predicted = np.zeros((4, 4), dtype=bool)
    predicted[0, :] = True  # 4 pixels
    true = np.zeros((4, 4), dtype=bool)
    true[0, 2:] = True
    true[1, 2:] = True  # 4 pixels, 2 shared
    assert scores.dice_score(predicted, true) == pytest.approx(2 * 2 / 8)


def test_dice_refuses_maps_of_different_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        scores.dice_score(np.zeros((4, 4)), np.zeros((4, 5)))


def test_thresholded_dice_keeps_pixels_strictly_above_the_threshold():
    prob_map = np.array([[0.9, 0.5], [0.2, 0.7]])
    mask = np.array([[1, 1], [0, 0]], dtype=np.uint8)
    # Above 0.5: (0,0) and (1,1); overlap with the mask: (0,0). Dice = 2*1 / (2 + 2).
    assert scores.thresholded_dice(prob_map, mask, 0.5) == pytest.approx(0.5)


def test_mean_dice_over_all_frames_and_fake_frames():
    result = scores.mean_dice([1.0, 0.5, 0.0], [0, 1, 1])
    assert result == {"dice_all": pytest.approx(0.5), "dice_fake": pytest.approx(0.25), "frames": 3, "fake_frames": 2}


def test_mean_dice_over_fake_frames_is_nan_without_fakes():
    assert math.isnan(scores.mean_dice([1.0, 1.0], [0, 0])["dice_fake"])


def test_detection_scores_by_hand():
    # Rule at 0.5 calls frames 0 and 2 fake: one true positive, one false positive, one miss.
    result = scores.detection_scores([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1], 0.5)
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(0.5)
    assert result["real_flagged"] == pytest.approx(0.5)  # frame 2 of the reals 2 and 3
    # Positive-negative pairs ranked right: (0.9,0.6) (0.9,0.1) (0.4,0.1); wrong: (0.4,0.6).
    assert result["roc_auc"] == pytest.approx(3 / 4)
    # Ranked: 0.9 fake (P 1, R 1/2), 0.6 real, 0.4 fake (P 2/3, R 1): AP = 1/2*1 + 1/2*2/3.
    assert result["average_precision"] == pytest.approx(0.5 + 1 / 3)
    assert (result["count"], result["fake_count"]) == (4, 2)


def test_nothing_called_fake_scores_zero_not_an_error():
    result = scores.detection_scores([1, 0], [0.2, 0.1], 0.5)
    assert (result["precision"], result["recall"], result["f1"]) == (0.0, 0.0, 0.0)


def test_auc_and_average_precision_are_nan_with_one_class():
    result = scores.detection_scores([0, 0, 0], [0.2, 0.7, 0.1], 0.5)
    assert math.isnan(result["roc_auc"]) and math.isnan(result["average_precision"])
    assert result["precision"] == 0.0  # one false positive, no true positive
    assert result["real_flagged"] == pytest.approx(1 / 3)


def test_real_flagged_is_nan_without_reals_and_one_when_every_real_is_flagged():
    assert math.isnan(scores.real_flagged([1, 1], [0.9, 0.1], 0.5))
    assert scores.real_flagged([1, 0, 0], [0.9, 0.6, 0.7], 0.5) == 1.0
    assert scores.real_flagged([1, 0, 0], [0.9, 0.5, 0.2], 0.5) == 0.0  # 0.5 is not above t


def test_per_manipulation_scores_each_kind_of_fake_against_all_reals_by_hand():
    labels = [0, 0, 0, 1, 1, 1, 1, 1]
    frame_scores = [0.1, 0.3, 0.6, 0.9, 0.2, 0.7, 0.8, 0.4]
    sources = ["ff/original", "ff/original", "dfd", "ff/FaceSwap", "ff/FaceSwap", "ff/Deepfakes", "ff/Deepfakes",
               "ff/Deepfakes"]
    dices = [1.0, 1.0, 0.0, 0.5, 0.25, 0.9, 0.6, 0.3]
    deepfakes, faceswap = scores.per_manipulation(labels, frame_scores, sources, 0.5, dices)
    # Deepfakes 0.7, 0.8, 0.4 against the reals 0.1, 0.3, 0.6: 3 + 3 + 2 of 9 pairs won.
    assert deepfakes == {"manipulation": "ff/Deepfakes", "recall": pytest.approx(2 / 3), "roc_auc": pytest.approx(8 / 9),
                         "dice_fake": pytest.approx(0.6), "fake_frames": 3, "real_frames": 3}
    # FaceSwap 0.9, 0.2: 3 + 1 of 6 pairs won.
    assert faceswap == {"manipulation": "ff/FaceSwap", "recall": 0.5, "roc_auc": pytest.approx(4 / 6),
                        "dice_fake": pytest.approx(0.375), "fake_frames": 2, "real_frames": 3}


def test_per_manipulation_without_reals_or_dices_gives_nan():
    (row,) = scores.per_manipulation([1, 1], [0.9, 0.2], ["x", "x"], 0.5)
    assert (row["recall"], row["fake_frames"], row["real_frames"]) == (0.5, 2, 0)
    assert math.isnan(row["roc_auc"]) and math.isnan(row["dice_fake"])


def test_mask_area_buckets_go_up_on_an_edge():
    assert scores.mask_area_buckets() == ["none", "< 5%", "5-10%", "10-20%", ">= 20%"]
    areas = [0.0, 0.001, 0.0499, 0.05, 0.0999, 0.1, 0.2, 1.0]
    assert [scores.mask_area_bucket(area) for area in areas] == [
        "none", "< 5%", "< 5%", "5-10%", "5-10%", "10-20%", ">= 20%", ">= 20%"]
    assert scores.mask_area_buckets((0.25,)) == ["none", "< 25%", ">= 25%"]


def test_per_mask_area_scores_each_size_of_fake_against_all_reals_by_hand():
    labels = [0, 0, 0, 1, 1, 1, 1, 1]
    frame_scores = [0.1, 0.3, 0.6, 0.2, 0.4, 0.9, 0.8, 0.7]
    areas = [0.0, 0.0, 0.0, 0.02, 0.04, 0.5, 0.3, 0.12]
    dices = [1.0, 1.0, 0.0, 0.0, 0.2, 0.9, 0.7, 0.5]
    small, medium, large = scores.per_mask_area(labels, frame_scores, areas, 0.5, dices)
    # small: 0.2 and 0.4 against the reals 0.1, 0.3, 0.6: 1 + 2 of 6 pairs won, none fires.
    assert small == {"mask_area": "< 5%", "recall": 0.0, "roc_auc": pytest.approx(3 / 6),
                     "dice_fake": pytest.approx(0.1), "fake_frames": 2, "real_frames": 3}
    # 10-20%: 0.7 outranks every real; the empty 5-10% bucket has no row.
    assert medium == {"mask_area": "10-20%", "recall": 1.0, "roc_auc": 1.0,
                      "dice_fake": pytest.approx(0.5), "fake_frames": 1, "real_frames": 3}
    assert (large["mask_area"], large["recall"], large["dice_fake"], large["fake_frames"]) == (
        ">= 20%", 1.0, pytest.approx(0.8), 2)


def test_per_mask_area_of_a_split_without_fakes_has_no_rows():
    assert scores.per_mask_area([0, 0], [0.3, 0.7], [0.0, 0.0], 0.5) == []


def test_per_video_applies_the_more_than_half_rule():
    video_ids = ["a"] * 4 + ["b"] * 3 + ["c"] * 2
    labels = [1] * 4 + [1] * 3 + [0] * 2
    frame_scores = [0.9, 0.8, 0.2, 0.1] + [0.9, 0.7, 0.6] + [0.1, 0.2]
    ids, video_labels, video_scores = scores.per_video(video_ids, labels, frame_scores)
    assert ids == ["a", "b", "c"]
    assert video_labels.tolist() == [1, 1, 0]
    assert video_scores.tolist() == [0.2, 0.7, 0.1]  # "a" has exactly half its frames above 0.5
    result = scores.detection_scores(video_labels, video_scores, 0.5)
    assert (result["precision"], result["recall"]) == (1.0, 0.5)
    assert result["f1"] == pytest.approx(2 / 3)


def test_per_video_refuses_a_video_with_mixed_labels():
    with pytest.raises(ValueError, match="'a'"):
        scores.per_video(["a", "a"], [0, 1], [0.1, 0.2])


def test_threshold_grid_runs_from_005_to_099():
    grid = threshold.threshold_grid()
    assert (grid[0], grid[-1], len(grid)) == (0.05, 0.99, 95)


def test_sweep_and_best_threshold_by_hand():
    curve = threshold.sweep([1, 1, 0], [0.9, 0.3, 0.2], [0.1, 0.25, 0.5])
    # t=0.1: all fake, P 2/3 R 1; t=0.25: exact; t=0.5: P 1 R 1/2.
    assert curve["f1"] == pytest.approx([0.8, 1.0, 2 / 3])
    assert curve["recall"] == pytest.approx([1.0, 1.0, 0.5])
    assert threshold.best_threshold(curve) == 0.25


def test_balanced_accuracy_does_not_reward_flagging_every_frame_as_f1_does():
    # three fakes and one real: flagging all is F1 6/7 but balanced accuracy 1/2
    curve = threshold.sweep([1, 1, 1, 0], [0.9, 0.6, 0.3, 0.5], [0.2, 0.55])
    assert curve["f1"] == pytest.approx([6 / 7, 0.8])
    assert curve["real_flagged"] == pytest.approx([1.0, 0.0])
    assert curve["balanced_accuracy"] == pytest.approx([0.5, (2 / 3 + 1) / 2])
    assert threshold.best_threshold(curve, "f1") == 0.2
    assert threshold.best_threshold(curve) == 0.55
    with pytest.raises(ValueError, match="unknown threshold criterion 'auc'"):
        threshold.best_threshold(curve, "auc")


def test_best_threshold_takes_the_middle_of_a_plateau():
    curve = threshold.sweep([1, 0], [0.9, 0.1], [0.2, 0.3, 0.4, 0.5, 0.6])
    assert curve["f1"].tolist() == [1.0] * 5
    assert threshold.best_threshold(curve) == 0.4


def test_a_t_at_the_edge_of_the_grid_comes_with_a_finer_grid_to_try():
    grid = threshold.threshold_grid()
    assert threshold.edge_hint(0.99, grid) == (
        "t is the grid's highest value: the best t may lie above it; "
        "try --grid-start 0.99 --grid-stop 0.999 --grid-step 0.001")
    assert threshold.edge_hint(0.05, grid).startswith("t is the grid's lowest value")
    assert threshold.edge_hint(0.5, grid) is None
    assert threshold.edge_hint(1.0, threshold.threshold_grid(0.9, 1.0, 0.05)) is None  # nothing lies above 1


def test_iou_counts_the_overlap_and_two_empty_maps_score_one():
    predicted = np.zeros((4, 4), dtype=bool)
    predicted[0, :] = True
    true = np.zeros((4, 4), dtype=bool)
    true[0, 2:] = True
    true[1, 2:] = True  # union 6, overlap 2
    assert scores.iou_score(predicted, true) == pytest.approx(2 / 6)
    assert scores.iou_score(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


def test_pixel_scores_from_histograms_by_hand():
    prob_map = np.array([[0.95, 0.85], [0.15, 0.05]])
    mask = np.array([[1, 0], [1, 0]])
    histograms = scores.pixel_histograms(prob_map, mask, bins=10)
    assert histograms.sum(axis=1).tolist() == [2, 2]
    # positives 0.95, 0.15 against negatives 0.85, 0.05: 3 of the 4 pairs ordered right
    assert scores.binned_roc_auc(histograms) == pytest.approx(0.75)
    # ranked 0.95 (pos), 0.85, 0.15 (pos): precision 1 at recall 1/2, 2/3 at recall 1
    assert scores.binned_average_precision(histograms) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert math.isnan(scores.binned_roc_auc(scores.pixel_histograms(prob_map, np.zeros((2, 2)))))


def test_pixel_scores_agree_with_scikit_learn_up_to_the_bins():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    mask = rng.random((64, 64)) < 0.3
    prob_map = np.clip(rng.normal(0.4 + 0.2 * mask, 0.15), 0, 1)
    histograms = scores.pixel_histograms(prob_map[:32], mask[:32]) + scores.pixel_histograms(prob_map[32:], mask[32:])
    assert scores.binned_roc_auc(histograms) == pytest.approx(metrics.roc_auc_score(mask.ravel(), prob_map.ravel()), abs=1e-3)
    assert scores.binned_average_precision(histograms) == pytest.approx(
        metrics.average_precision_score(mask.ravel(), prob_map.ravel()), abs=5e-3)


def test_sweep_agrees_with_the_metric_at_every_threshold_of_the_grid():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 200)
    frame_scores = np.round(rng.random(200), 2)  # ties with the grid's thresholds on purpose
    grid = threshold.threshold_grid()
    curve = threshold.sweep(labels, frame_scores, grid)
    for index, t in enumerate(grid):
        expected = scores.precision_recall_f1(labels, frame_scores, t)
        for name in ("precision", "recall", "f1"):
            assert curve[name][index] == pytest.approx(expected[name], abs=1e-12), (name, t)
        assert curve["real_flagged"][index] == pytest.approx(np.mean(frame_scores[labels == 0] > t), abs=1e-12)


def test_sweep_of_one_class_only_follows_the_zero_division_policy():
    curve = threshold.sweep([0, 0], [0.9, 0.1], [0.5])
    assert (curve["precision"][0], curve["recall"][0], curve["f1"][0]) == (0.0, 0.0, 0.0)
