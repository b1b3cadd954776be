"""Airflow plugins shipped by this provider. Import-light: Airflow imports them in every process."""
