"""The environment table students read in notebook 00."""
import sys

from minillm import notebook


def test_environment_table_lists_only_requirements_for_this_python():
    table = notebook.environment_table()
    assert {"package", "group", "required", "installed", "ok", "fix"} <= set(table.columns)
    assert {"torch", "tiktoken", "safetensors"} <= set(table.package)
    # tomli is required only below Python 3.11 (tomllib is in the standard library from 3.11)
    assert ("tomli" in set(table.package)) == (sys.version_info < (3, 11))
    assert set(table.group) <= {"core", "dev"}
    assert (table.fix == "").equals(table.ok.astype(bool))
