#!/bin/bash
# Base CloudWatch agent configuration: /var/log/messages to the /var/log/messages group. The worker's
# boot scriptlet adds /var/log/lava for its realm.
install -d -m 0755 /opt/aws/amazon-cloudwatch-agent/etc
install -m 0644 resources/amazon-cloudwatch-agent/config.json /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json
systemctl enable amazon-cloudwatch-agent
