#!/bin/bash
# Workers log to syslog facility local0; this sends those lines, unchanged, to /var/log/lava, which the
# CloudWatch agent ships to /var/log/lava/<realm> (see _boot_/20-cloudwatch.sh).
install -m 0644 resources/rsyslog.d/30-lava.conf /etc/rsyslog.d/30-lava.conf
touch /var/log/lava
chmod 0640 /var/log/lava
systemctl enable rsyslog
