#!/bin/bash
# Fail the build when something the worker hosts rely on is missing.
for cmd in psql mysql docker aws jq bzip2 crontab logger odbcinst; do
    command -v "$cmd" > /dev/null || { echo "missing: $cmd" >&2; exit 1; }
done
for file in /usr/local/etc/ami-info /etc/rc.d/rc.local /etc/rsyslog.d/30-lava.conf; do
    [ -e "$file" ] || { echo "missing: $file" >&2; exit 1; }
done
ls /usr/local/etc/rc.d/* > /dev/null
