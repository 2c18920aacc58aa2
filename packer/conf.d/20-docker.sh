#!/bin/bash
# Docker jobs: the daemon starts at boot; lava-<worker> users are added to the docker group by 50-lava.sh.
systemctl enable docker
