"""The study's facts (docs/METHOD.md), each declared once; code, flags and help text refer here.

Where the study left a value open, the value here is the project's documented default
(METHOD.md says which); config fields and flags override them.
"""

# Frames sampled evenly from each video (METHOD.md 2: DeepfakeBench's convention).
FRAMES_PER_VIDEO = 32

# Side of the square face crops and masks the records store and every model takes (METHOD.md 2.4).
FACE_SIZE = 256

# The study's component size, in pixels (METHOD.md 2.3 and 5). Masks keep the components of AT
# LEAST this many pixels; the frame rule calls a frame fake when the thresholded map has a
# component of MORE than this many. The two rules are the study's own wording.
COMPONENT_PIXELS = 100

# The decision threshold t of the frame rule before a search on validation sets it, and the
# classifiers' rule (fake iff p > 0.5) in the study (METHOD.md 5).
DEFAULT_DECISION_THRESHOLD = 0.5

# Adam's learning rate for the U-Nets: the study gives none; NVIDIA UNet_Industrial's default (METHOD.md 4).
NVIDIA_LEARNING_RATE = 1e-4

# The study's searched t of the two U-Nets (METHOD.md 5).
STUDY_DECISION_THRESHOLDS = {"unet": 0.95, "unet_v1": 0.5}
