#!/bin/bash
# ------------------------------------------------------------------------------
# First boot script of a lava worker instance (user data "shell0", run before
# the AMI's other rc.d scripts).
#
# Usage: root.boot0.sh s3-source-area realm worker
#
# Prepares the extra volumes the worker launch template attaches:
#     /dev/xvdb  becomes /tmp (mode 1777)
#     /dev/xvdc  becomes docker's storage, /mnt/docker, linked from /var/lib/docker
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

PROG=$(basename "$0")
ROOT="${LAVA_BOOT_ROOT:-}"
VOLPREP="$ROOT/usr/local/sbin/volprep"

info() {
	logger -t "$PROG" -p local0.info "INFO: $*"
}

error() {
	logger -t "$PROG" -p local0.error "ERROR: $*"
}

info Starting

TMP_VOL="$ROOT/dev/xvdb"
if [ -b "$TMP_VOL" ]
then
	if result=$("$VOLPREP" -m1777 "$TMP_VOL" "$ROOT/tmp" 2>&1)
	then
		info "$result"
	else
		error "$result"
	fi
fi

DOCKER_BASE="$ROOT/var/lib/docker"
DOCKER_VOL="$ROOT/dev/xvdc"
if [ -b "$DOCKER_VOL" ]
then
	if ! service docker stop
	then
		# Moving docker's storage under a running daemon would corrupt it.
		error "Cannot stop docker: docker volume not prepared"
	else
		[ -e "$DOCKER_BASE" ] && [ ! -L "$DOCKER_BASE" ] && mv "$DOCKER_BASE" "$DOCKER_BASE.orig"
		if result=$("$VOLPREP" -l "$DOCKER_BASE" -m0711 "$DOCKER_VOL" "$ROOT/mnt/docker" 2>&1)
		then
			info "$result"
		else
			error "$result"
		fi
		service docker start || error "Cannot start docker"
	fi
fi

info Finishing
