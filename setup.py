"""Packaging detail pyproject.toml cannot express: the built-in profiles live in profiles/ at the top of the
repository (where users look for them) and ship inside the package as kharden.profiles."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["kharden", "kharden.*"]) + ["kharden.profiles"],
    package_dir={"kharden.profiles": "profiles"},
)
