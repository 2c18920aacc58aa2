#!/bin/bash
# ------------------------------------------------------------------------------
# Boot scriptlet: apply pending security updates.
#
# Usage: 10-secupdate.sh s3-source-area realm worker   (arguments unused)
#
# Exit status 2 on failure: the boot carries on (status 1 would stop it).
# No reboot by default: a kernel update that needs one waits for the next
# scheduled patching (lava-SecurityUpdate SSM document).
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

SEC_UPDATES=yes
# yes: reboot after updates (guarded by /NO-REBOOT against reboot loops).
REBOOT=no
# 1 aborts the whole boot when updates fail; 2 lets it carry on.
FAIL_EXIT=2
# Seconds to wait before each attempt: yum can lose a lock race with the SSM
# agent early in boot.
BACKOFF=(0 5 10)

PROG=$(basename "$0")
ROOT="${LAVA_BOOT_ROOT:-}"

info() {
	[ -t 2 ] && echo "INFO: $*" >&2
	logger -t "$PROG" -p local0.info "INFO: $*"
}

error() {
	[ -t 2 ] && echo "ERROR: $*" >&2
	logger -t "$PROG" -p local0.error "ERROR: $*"
}

abort() {
	error "ABORT $*"
	exit "$FAIL_EXIT"
}

[ "$SEC_UPDATES" = "yes" ] || exit 0

info "Checking for security updates"
yum check-update --security > /dev/null
status=$?
case $status in
	0)
		info "No security updates needed"
		;;
	100)
		info "Installing security updates"
		updated=
		for pause in "${BACKOFF[@]}"
		do
			[ "$pause" -ne 0 ] && info "Sleeping for $pause seconds before retry" && sleep "$pause"
			if yum update --security -y > /dev/null
			then
				info "Security updates done"
				updated=yes
				break
			fi
			error "Security update failed with status $?"
		done
		[ "$updated" = "yes" ] || abort "Security updates failed and no more retries"

		if [ "$REBOOT" = "yes" ]
		then
			[ -f "$ROOT/NO-REBOOT" ] && abort "Possible reboot loop detected -- reboot cancelled"
			touch "$ROOT/NO-REBOOT" || abort "Cannot create $ROOT/NO-REBOOT guard file -- reboot cancelled"
			info "Rebooting"
			reboot
			exit 0
		fi
		;;
	*)
		abort "yum check-update exited with status $status"
		;;
esac

# No reboot happened, so the reboot-loop guard can go.
/bin/rm -f "$ROOT/NO-REBOOT"
exit 0
