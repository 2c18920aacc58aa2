#!/bin/bash
# ------------------------------------------------------------------------------
# Boot scriptlet: refresh the message of the day.
#
# Usage: 90-motd.sh s3-source-area realm worker   (arguments unused)
#
# Never exits 1: the motd is not worth stopping a boot for.
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

PROG=$(basename "$0")
ROOT="${LAVA_BOOT_ROOT:-}"

error() {
	[ -t 2 ] && echo "ERROR: $*" >&2
	logger -t "$PROG" -p local0.error "ERROR: $*"
}

ID=
VERSION_ID=
# shellcheck disable=SC1091
[ -f "$ROOT/etc/os-release" ] && . "$ROOT/etc/os-release"

case "${ID}${VERSION_ID}" in
	amzn2)
		systemctl --quiet restart update-motd || exit 2
		;;
	amzn2023)
		# update-motd.d runs at login; nothing to do.
		;;
	*)
		error "Don't know how to handle motd on ${ID}${VERSION_ID} - moving on"
		exit 2
		;;
esac
exit 0
