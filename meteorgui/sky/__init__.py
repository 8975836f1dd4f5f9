"""The sky behind each event (no Qt): astrometry, shower association, multi-camera
meteors and their trajectories.

Importing this package is cheap; the modules that compute (they need numpy and
pyerfa, ~80 ms to import) are imported by whoever calls them, never on the GUI's
start-up path.
"""
