"""The files meteorgui reads at run time (icons, demo clips).

Installed as the package ``meteorgui.assets`` (see setup.py), so the program finds them
with importlib.resources wherever it is installed: a wheel, a checkout, a frozen build.
"""
