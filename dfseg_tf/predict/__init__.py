"""`dfseg predict`: sampled frames -> every face -> one model call -> the study's rules -> reports.

``inputs.collect_inputs`` lists what to look at, ``predictor.Predictor`` handles one
input, ``runner.predict_all`` a whole run (JSON per input, summary CSV, overlays),
``command`` is the command line. This file imports nothing, so ``dfseg --help`` does
not wait for TensorFlow.
"""
