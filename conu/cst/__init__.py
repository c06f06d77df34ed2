"""container-structure-test files, run by conu on any backend.

* :func:`conu.cst.loader.load` validates a file (schema 2.0.0 or 1.0.0);
* :func:`conu.cst.runner.run_config` runs its tests against an image of any backend;
* :func:`conu.cst.report.render` formats the results (text, JSON, JUnit);
* ``conu validate`` (see :mod:`conu.cli`) and the pytest plugin (``*.cst.yaml`` files) use
  them.
"""

from conu.cst.checks import Result
from conu.cst.config import Config
from conu.cst.loader import load
from conu.cst.report import render
from conu.cst.runner import run_config

__all__ = ["Config", "Result", "load", "render", "run_config"]
