"""Apache Airflow provider: push warehouse metadata, lineage and query logs to Monte Carlo.

Import-light on purpose: nothing here imports pycarlo, sqlglot or a warehouse SDK.
"""

__version__ = "0.1.0"
