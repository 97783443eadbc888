"""The in-process worker pool: a fair queue in front of one worker thread per device.

``pool.py`` is the event loop's side (submit, follow, cancel, metrics), ``queue.py`` the
lanes and turns, ``worker.py`` the threads that own the models, ``metrics.py`` the numbers.
"""
