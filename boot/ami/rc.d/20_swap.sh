#!/bin/bash
# ------------------------------------------------------------------------------
# Set up a swap file from the user data, once (it persists through fstab).
#
#   { "swap": { "size": 2, "file": "/swapfile" } }
#
# size is in GiB; 0 or absent means no swap. file defaults to /swapfile and must
# be a plain name at the top of the root volume.
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

ROOT="${LAVA_BOOT_ROOT:-}"
TAG=rclocal.swap
export PATH="$PATH:$ROOT/usr/local/sbin"

log() {
	logger -t "$TAG" -p "local0.$1" "$2"
}

abort() {
	log error "$*"
	echo "20_swap.sh: $*" >&2
	exit 1
}

size=$(userdata-key swap.size 2>&1) || abort "Bad user data: $size"
swapfile=$(userdata-key swap.file 2>&1) || abort "Bad user data: $swapfile"
[ -z "$size" ] && size=0
[ -z "$swapfile" ] && swapfile=/swapfile

[[ "$size" =~ ^[0-9]+$ ]] || abort "Bad swap size: $size"
[[ "$swapfile" =~ ^/[.a-zA-Z0-9_-]+$ ]] || abort "Bad swap file: $swapfile"

[ "$size" -eq 0 ] && log info "Swap not required" && exit 0
[ -f "$ROOT$swapfile" ] && log info "Swap is already configured" && exit 0

dd if=/dev/zero of="$ROOT$swapfile" bs=1M count=$((size * 1024)) || abort "Could not create swap file $swapfile"
chmod 600 "$ROOT$swapfile"
mkswap "$ROOT$swapfile" || abort "mkswap $swapfile failed"
swapon "$ROOT$swapfile" || abort "swapon $swapfile failed"
echo "$swapfile swap swap defaults 0 0" >> "$ROOT/etc/fstab"
log info "Swapping configured on $swapfile ($size GiB)"
