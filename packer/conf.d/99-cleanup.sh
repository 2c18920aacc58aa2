#!/bin/bash
# Leave no build leftovers or host identity behind.
dnf clean all
rm -rf /var/cache/dnf /tmp/lava-ami/boot
truncate -s 0 /var/log/messages /var/log/lava || true
rm -f /etc/ssh/ssh_host_*
