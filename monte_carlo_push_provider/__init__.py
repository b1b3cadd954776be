"""Apache Airflow provider: push warehouse metadata, lineage and query logs to Monte Carlo.

Import-light on purpose: nothing here imports pycarlo, sqlglot or a warehouse SDK.
"""

# The one place the version is written: pyproject.toml reads it (setuptools dynamic version) and
# get_provider_info reports it. Bump it together with a CHANGELOG.md entry.
__version__ = "0.1.0"
