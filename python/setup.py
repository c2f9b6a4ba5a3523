"""Marks the wheel as platform-specific: it carries a native executable, not a Python extension.

The tag is py3-none-<platform> (any Python 3, no ABI); `auditwheel repair` then replaces
linux_x86_64 with the manylinux tag the bundled libraries allow.
"""

from setuptools import setup
from setuptools.dist import Distribution
try:  # setuptools ≥ 70.1 has its own; older ones use the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
