#!/bin/bash
# SSM agent: lava-stop runs through Run Command (stop lambda, lava-* command documents).
systemctl enable amazon-ssm-agent
