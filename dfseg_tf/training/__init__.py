"""What every training script shares: loss, metrics, precision, strategy, callbacks, run folder.

``losses`` and ``metrics`` use ``keras.ops`` only, so they run under any Keras backend;
the rest is training infrastructure on TensorFlow.
"""
