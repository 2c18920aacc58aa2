#!/bin/bash
# Jobs and their cron schedules run in the host's time zone.
timedatectl set-timezone "${TIMEZONE:-UTC}"
