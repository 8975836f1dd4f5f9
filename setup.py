"""The top-level resources/ folder is installed as the package meteorgui.assets.

pyproject.toml cannot add a mapped package to the ones it finds, hence this file; the
rest of the configuration is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["meteorgui", "meteorgui.*"]), "meteorgui.assets"],
    package_dir={"meteorgui.assets": "resources"},
    # Every file under resources/ (a new one ships without a change here), but not the
    # scripts that made them; tests/test_install.py checks the wheel against the tree.
    package_data={"meteorgui.assets": ["**/*"]},
    exclude_package_data={"meteorgui.assets": ["**/*.py", "**/*.pyc", "**/__pycache__/*"]},
)
