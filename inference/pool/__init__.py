"""The in-process worker pool: a fair queue in front of one worker thread per device.

``pool.py`` is the event loop's side (submit, follow, cancel, metrics) and ``handle.py`` what
a submitter holds; ``queue.py`` keeps the lanes and turns, ``worker.py`` the threads that
own the models, ``recorder.py`` the ordered database writes, ``metrics.py`` the numbers.
"""
