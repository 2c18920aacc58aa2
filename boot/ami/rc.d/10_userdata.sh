#!/bin/bash
# Record the instance user data in syslog (it holds no secrets: only S3 locations and commands).
data=$(ec2-metadata --user-data 2> /dev/null | sed -e '1s/^user-data: *//')
logger -t rclocal.userdata -p local0.info "user data: $data"
