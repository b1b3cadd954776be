#!/usr/bin/env bash
# System packages the test stand-ins need (Debian): pgbouncer in front of PostgreSQL for the
# Redshift stand-in; faketime (libfaketime) to run Airflow at chosen wall-clock times in the
# push cadence tests. Installs only what is missing; needs root (CI and dev machines run as root).
set -euo pipefail
need=()
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
