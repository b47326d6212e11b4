"""The study's evaluation: frame and video rules, Dice and detection scores, tables, plots.

``rules`` and ``scores`` are pure numpy; ``predictions`` streams a saved model over a
``dfdc_masks`` split; ``threshold``, ``tables`` and ``plots`` turn the per-frame
results into the study's threshold, tables and figures.
"""
