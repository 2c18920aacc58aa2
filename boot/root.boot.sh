#!/bin/bash
# ------------------------------------------------------------------------------
# Main boot script of a lava worker instance (user data "shell", run after the
# AMI's other rc.d scripts). Deployed per worker to s3://<code>/<prefix>/<realm>/<worker>/.
#
# Usage: root.boot.sh s3-source-area realm worker
#
# Copies s3-source-area/_boot_/ and runs each scriptlet there in lexicographic
# order with the same three arguments. Exit status 1 from a scriptlet aborts the
# boot; any other failure is logged and the boot carries on.
# ------------------------------------------------------------------------------

PROG=$(basename "$0")

info() {
	[ -t 2 ] && echo "INFO: $*" >&2
	logger -t "$PROG" -p local0.info "INFO: $*"
}

warning() {
	[ -t 2 ] && echo "WARNING: $*" >&2
	logger -t "$PROG" -p local0.error "WARNING: $*"
}

error() {
	[ -t 2 ] && echo "ERROR: $*" >&2
	logger -t "$PROG" -p local0.error "ERROR: $*"
}

abort() {
	[ -t 2 ] && echo "$PROG: ABORT - $*" >&2
	error "ABORT $*"
	exit 1
}

[ $# -ne 3 ] && abort "Usage: $PROG s3-source-area realm worker"
s3source="${1%/}"
[[ "$s3source" =~ ^s3:// ]] || abort "s3-source-area must start with s3://"
realm="$2"
worker="$3"

info Starting

BOOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/boot.XXXXXX") || abort "Cannot create a temporary directory"
z=1
trap '/bin/rm -rf "$BOOT_DIR"; exit $z' 0
cd "$BOOT_DIR" || abort "Cannot cd to $BOOT_DIR"

info "Checking $s3source/_boot_/ for boot scripts"
aws s3 sync --no-progress "$s3source/_boot_/" . > /dev/null || abort "Cannot copy $s3source/_boot_/"

shopt -s nullglob
for f in *
do
	[[ "$f" == README* ]] && continue
	[ -f "$f" ] || { warning "Skipping non-file $f in boot scripts"; continue; }
	chmod 700 "$f"

	info "Running boot script $f"
	"./$f" "$s3source" "$realm" "$worker"
	status=$?
	case $status in
		0) info "Boot script $f: OK" ;;
		1) abort "Boot script $f failed" ;;
		*) error "Boot script $f failed with status $status - continuing" ;;
	esac
done

z=0
info Done
