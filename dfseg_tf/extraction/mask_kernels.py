"""The two passes of a manipulation mask over a face crop, compiled with Numba.

A mask must cost a small part of decoding the frames it comes from (under 10%, measured by
``experiments/bench_masks.py``). Done as a chain of OpenCV and NumPy calls, each step made
its own pass over the crop and each call started with cold caches, because the decoder had
just run: that cost 10% of decoding for a small face and 25% for a 1080p close-up. Here
each pass is one loop that Numba compiles to vectorised machine code (the loops never run
in the interpreter):

1. ``pixels_over_threshold`` reads the two crops once and writes where the blurred RGB
   distance exceeds the threshold, with the box around those pixels and their count.
2. ``large_components_resized`` labels the 8-connected components inside that box and
   writes the resized mask straight from the labels, keeping components of enough pixels.

A third, small kernel, ``blurred_distances_on_grid``, samples the same blurred distance on a
sparse grid of the whole frame away from the face box: the codec noise from which the
mask threshold is set (``masks.noise_samples``).

Both reproduce OpenCV exactly: the 5x5 Gaussian is the binomial kernel [1, 4, 6, 4, 1]
(``cv2.getGaussianKernel(5, 0)``) with borders reflected without repeating the edge, and
the resize picks source pixels as ``cv2.resize(..., interpolation=cv2.INTER_NEAREST)``
does; tests hold them to OpenCV and to a float64 reference of the method.
"""

import numba
import numpy as np

_CHANNELS = 3
_TAP_SUM = 16  # the binomial taps 1, 4, 6, 4, 1 sum to 16 per direction, 256 in 2-D


@numba.njit(cache=True, inline="always")
def _reflect(i: int, n: int) -> int:
    """OpenCV's BORDER_REFLECT_101 index: ``gfedcb|abcdefgh|gfedcba``."""
    if n == 1:
        return 0
    while i < 0 or i >= n:
        i = -i if i < 0 else 2 * n - 2 - i
    return i


@numba.njit(cache=True)
def _blur_row_difference(real_row, fake_row, width, padded, blurred):
    """The row's real - fake blurred horizontally, times 16 (exact in int16: at most 16 * 255);
    returns its largest magnitude.

    ``padded`` holds the difference with two reflected pixels on each side, so value k of
    the row sits at k + 6 and its taps 1, 4, 6, 4, 1 are the values 3 apart from k to k + 12.
    """
    values = _CHANNELS * width
    for k in range(values):
        padded[6 + k] = np.int16(real_row[k]) - np.int16(fake_row[k])
    for pixel in (-2, -1, width, width + 1):
        source = _reflect(pixel, width)
        for c in range(_CHANNELS):
            padded[6 + _CHANNELS * pixel + c] = padded[6 + _CHANNELS * source + c]
    highest, lowest = np.int16(0), np.int16(0)  # int16, not abs(): keeps 32 values to a vector
    for k in range(values):
        value = np.int16(padded[k] + padded[k + 12] + 4 * (padded[k + 3] + padded[k + 9]) + 6 * padded[k + 6])
        blurred[k] = value
        highest, lowest = max(highest, value), min(lowest, value)
    return max(int(highest), -int(lowest))


@numba.njit(cache=True)
def pixels_over_threshold(real, fake, mask_threshold):
    """Where the 5x5-blurred RGB distance of ``real`` and ``fake`` exceeds ``mask_threshold``.

    The blur is linear, so the difference is blurred once, in integers: 256 times the
    blurred difference is exact. Its square is compared in float32, off from the exact
    distance by about 1e-6 at the thresholds used.

    Rows are blurred horizontally as they are read, into a ring of the five rows the
    vertical blur needs. A row whose five rows stay below a bound is left at zero without
    the vertical blur: the vertical taps sum to 16, so no channel of the blurred difference
    exceeds 16 times the largest horizontal value among them, and the distance stays at or
    below the threshold when ``3 * peak**2 <= 256 * mask_threshold**2``. Most rows of a face
    crop cross no manipulated pixel and are skipped.

    Args:
      real, fake: (h, 3 * w) uint8, each row a crop row's RGB values side by side.
      mask_threshold: the distance a pixel must exceed.

    Returns:
      ``(over, count, x0, y0, x1, y1)``: the (h, w) uint8 {0, 1} image, its number of
      ones and the box around them (empty, x1 <= x0, when there are none).
    """
    height, values = real.shape
    width = values // _CHANNELS
    limit = np.float32((mask_threshold * _TAP_SUM * _TAP_SUM) ** 2)
    bound = _TAP_SUM * _TAP_SUM * mask_threshold * mask_threshold
    ring = np.empty((5, values), np.int16)
    ring_peaks = np.empty(5, np.int64)
    padded = np.empty(values + 12, np.int16)
    squares = np.empty(values, np.float32)
    over = np.empty((height, width), np.uint8)
    any_in_column = np.zeros(width, np.uint8)
    count, top, bottom = 0, height, -1
    blurred_rows = 0
    for y in range(height):
        while blurred_rows <= min(y + 2, height - 1):
            slot = blurred_rows % 5
            ring_peaks[slot] = _blur_row_difference(real[blurred_rows], fake[blurred_rows], width, padded, ring[slot])
            blurred_rows += 1
        s0, s1, s2, s3, s4 = (_reflect(y - 2, height) % 5, _reflect(y - 1, height) % 5, y % 5,
                              _reflect(y + 1, height) % 5, _reflect(y + 2, height) % 5)
        peak = max(ring_peaks[s0], ring_peaks[s1], ring_peaks[s2], ring_peaks[s3], ring_peaks[s4])
        row = over[y]
        if 3 * peak * peak <= bound:
            row[:] = 0
            continue
        r0, r1, r2, r3, r4 = ring[s0], ring[s1], ring[s2], ring[s3], ring[s4]
        for k in range(values):
            value = np.float32(np.int32(r0[k] + r4[k] + 4 * (r1[k] + r3[k]) + 6 * r2[k]))
            squares[k] = value * value
        for x in range(width):
            row[x] = (squares[3 * x] + squares[3 * x + 1] + squares[3 * x + 2]) > limit
        row_count = 0
        for x in range(width):
            any_in_column[x] |= row[x]
            row_count += row[x]
        if row_count:
            count += row_count
            top, bottom = min(top, y), y
    left, right = width, -1
    for x in range(width):
        if any_in_column[x]:
            left, right = min(left, x), x
    return over, count, left, top, right + 1, bottom + 1


@numba.njit(cache=True)
def blurred_distances_on_grid(real, fake, step, x0, y0, x1, y1):
    """The 5x5-blurred RGB distance of ``real`` and ``fake`` at the grid points
    ``(2 + i * step, 2 + j * step)`` that lie outside the box ``[x0, x1) x [y0, y1)``.

    The grid keeps two pixels from the frame's edges, so every point's 5x5 neighbourhood
    is inside the frame and no border rule is needed; the sums are exact integers, as in
    ``pixels_over_threshold``.

    Args:
      real, fake: (h, 3 * w) uint8, each row a frame row's RGB values side by side.
      step: grid spacing in pixels (>= 1).
      x0, y0, x1, y1: the face box, whose points are left out.

    Returns:
      float32 distances, row by row (empty when no point lies outside the box).
    """
    height, values = real.shape
    width = values // _CHANNELS
    taps = (1, 4, 6, 4, 1)
    rows = max(0, (height - 5) // step + 1)
    columns = max(0, (width - 5) // step + 1)
    distances = np.empty(rows * columns, np.float32)
    n = 0
    for y in range(2, height - 2, step):
        for x in range(2, width - 2, step):
            if y0 <= y < y1 and x0 <= x < x1:
                continue
            red, green, blue = 0, 0, 0
            for dy in range(5):
                real_row, fake_row = real[y - 2 + dy], fake[y - 2 + dy]
                for dx in range(5):
                    weight = taps[dy] * taps[dx]
                    k = _CHANNELS * (x - 2 + dx)
                    red += weight * (np.int32(real_row[k]) - np.int32(fake_row[k]))
                    green += weight * (np.int32(real_row[k + 1]) - np.int32(fake_row[k + 1]))
                    blue += weight * (np.int32(real_row[k + 2]) - np.int32(fake_row[k + 2]))
            squared = np.float32(red) ** 2 + np.float32(green) ** 2 + np.float32(blue) ** 2
            distances[n] = np.sqrt(squared) / np.float32(_TAP_SUM * _TAP_SUM)
            n += 1
    return distances[:n]


@numba.njit(cache=True, inline="always")
def _root(parent, label):
    while parent[label] != label:
        parent[label] = parent[parent[label]]  # halve the path as it is walked
        label = parent[label]
    return label


@numba.njit(cache=True, inline="always")
def _merge(parent, a, b):
    a, b = _root(parent, a), _root(parent, b)
    if a < b:
        parent[b] = a
    elif b < a:
        parent[a] = b


@numba.njit(cache=True)
def _label_components(binary, x0, y0, x1, y1):
    """8-connected components of ``binary[y0:y1, x0:x1]`` in one scan with union-find.

    Returns labels with a zero border (pixel (y, x) of the box at [y + 1, x + 1]) and the
    number of pixels of each label's component (0 for label 0, the background).

    Of the neighbours already scanned (west, north-west, north, north-east), north touches
    all three others, so when it is set they are already in its component; otherwise
    north-east touches neither west nor north-west and may join two components.
    """
    height, width = y1 - y0, x1 - x0
    labels = np.zeros((height + 1, width + 2), np.int32)
    most_labels = ((height + 1) // 2) * ((width + 1) // 2) + 1  # one per 2x2 block at most
    parent = np.empty(most_labels, np.int32)
    pixels = np.zeros(most_labels, np.int64)
    next_label = 1
    for y in range(height):
        source, above, here = binary[y0 + y], labels[y], labels[y + 1]
        for x in range(1, width + 1):
            if source[x0 + x - 1] == 0:
                continue
            if above[x]:
                label = above[x]
            elif here[x - 1] or above[x - 1]:
                label = here[x - 1] if here[x - 1] else above[x - 1]
                if above[x + 1]:
                    _merge(parent, label, above[x + 1])
            elif above[x + 1]:
                label = above[x + 1]
            else:
                label = next_label
                parent[label] = label
                next_label += 1
            here[x] = label
            pixels[label] += 1
    component_pixels = np.zeros(next_label, np.int64)
    for label in range(1, next_label):
        component_pixels[_root(parent, label)] += pixels[label]
    for label in range(1, next_label):
        component_pixels[label] = component_pixels[_root(parent, label)]
    return labels, component_pixels


@numba.njit(cache=True)
def _nearest_label_indices(size, source_size, start, stop):
    """For each of ``size`` outputs, the source pixel ``cv2.resize`` with INTER_NEAREST takes,
    as an index into the labels of the box [start, stop) with their zero border (0 outside
    the box), and the span of outputs whose source is inside."""
    scale = 1.0 / (size / source_size)
    indices = np.zeros(size, np.int64)
    first, last = size, -1
    for i in range(size):
        source = min(int(np.floor(i * scale)), source_size - 1)
        if start <= source < stop:
            indices[i] = source - start + 1
            first, last = min(first, i), i
    return indices, first, last + 1


@numba.njit(cache=True)
def large_components_resized(binary, x0, y0, x1, y1, min_pixels, size):
    """``binary`` (set only inside the box) resized to (size, size) with nearest neighbour,
    keeping only its 8-connected components of at least ``min_pixels`` pixels.

    The components are found at the source resolution, inside the box; the resize then
    reads only the labels of the source pixels it picks.
    """
    labels, component_pixels = _label_components(binary, x0, y0, x1, y1)
    kept = (component_pixels >= min_pixels).astype(np.uint8)
    kept[0] = 0  # the background
    height, width = binary.shape
    rows, first_row, stop_row = _nearest_label_indices(size, height, y0, y1)
    columns, first_column, stop_column = _nearest_label_indices(size, width, x0, x1)
    resized = np.zeros((size, size), np.uint8)
    for i in range(first_row, stop_row):
        label_row = labels[rows[i]]
        for j in range(first_column, stop_column):
            resized[i, j] = kept[label_row[columns[j]]]
    return resized
