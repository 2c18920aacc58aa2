#!/bin/bash
# ------------------------------------------------------------------------------
# Boot scriptlet: install lava from S3 and start the worker daemons.
#
# Usage: 50-lava.sh s3-source-area realm worker
#
# Bundles live in s3-source-area/_dist_/pkg/<os>/ named
#     lava-<version>-<os>-<arch>.tar.gz      (+ .sha256 beside each)
# where <os> is linux or darwin and <arch> is x64, x64-baseline or arm64.
# A Bun executable needs only the kernel family and glibc, so the OS key is the
# family (uname -s), not the distribution as with the Python bundles, and there
# is no Python version in the name.
#
# The realms table entry may hold, under x-workers.<worker> (else x-workers._):
#     version   lava version to install (host worker only: one install per host)
#     workers   space separated workers to run on this host (default: this one)
#     daemons   daemons per worker (default 1)
#     threads   --threads for each daemon
#     env       map of environment variables for the worker (whole map, not merged)
#
# Bundle selection:
#     1. version set: the bundle of that version for this OS and a compatible
#        arch (x86_64: x64 if the CPU has AVX2, then x64-baseline; aarch64: arm64).
#        None: abort.
#     2. version not set: the highest version among bundles for this OS and a
#        compatible arch (ties go to the preferred arch). None: abort.
#
# Needs: aws CLI, python3 (JSON), tar, sort with -V. No npm, no network other
# than S3 and DynamoDB.
#
# LAVA_BOOT_ROOT (tests only) prefixes every file system path this script uses.
# ------------------------------------------------------------------------------

PROG=$(basename "$0")
ROOT="${LAVA_BOOT_ROOT:-}"
LAVA_BASE="$ROOT/opt/lava"
LAVA_BIN="$ROOT/usr/local/bin"
LAVAPATH="$LAVA_BIN:/usr/bin"
REALMS_TABLE=lava.realms

# ------------------------------------------------------------------------------
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
	echo "$PROG: ABORT $*" >&2
	exit 1
}

# ------------------------------------------------------------------------------
get_ami_type() {
	if [ -f "$ROOT/usr/local/etc/ami-info" ]
	then
		# shellcheck disable=SC1091
		(. "$ROOT/usr/local/etc/ami-info" && echo "$AMI_TYPE")
		return 0
	fi
	[ -f "$ROOT/usr/local/etc/rc.d/00_shell.sh" ] && echo SAK && return 0
	echo unknown
}

# Bundle arch keys this machine can run, preferred first.
arch_candidates() {
	local cpuinfo="$ROOT/proc/cpuinfo"
	[ -f "$cpuinfo" ] || cpuinfo=/proc/cpuinfo
	case "$(uname -m)" in
		x86_64 | amd64)
			if grep -qw avx2 "$cpuinfo" 2> /dev/null
			then
				echo "x64 x64-baseline"
			else
				echo "x64-baseline"
			fi
			;;
		aarch64 | arm64) echo "arm64" ;;
		*) return 1 ;;
	esac
}

# Value of x-workers.<worker>.<key>, else x-workers._.<key>, from the realm item.
# Scalars print as text; an absent key prints nothing.
worker_item() {
	python3 - "$TMP/realm.json" "$1" "$2" <<-'EOF'
		import json, sys
		item = json.load(open(sys.argv[1])).get('Item', {})
		workers = item.get('x-workers', {}).get('M', {})
		for name in (sys.argv[2], '_'):
		    value = workers.get(name, {}).get('M', {}).get(sys.argv[3])
		    if value:
		        kind, v = next(iter(value.items()))
		        if kind == 'BOOL':
		            v = 'true' if v else 'false'
		        print(v)
		        break
	EOF
}

# export lines for the env map of a worker (its own map, else _'s). Keys must be
# identifiers; values holding a single quote are skipped (they are quoted with ').
worker_env() {
	python3 - "$TMP/realm.json" "$1" <<-'EOF'
		import json, re, sys
		item = json.load(open(sys.argv[1])).get('Item', {})
		workers = item.get('x-workers', {}).get('M', {})
		env = None
		for name in (sys.argv[2], '_'):
		    env = workers.get(name, {}).get('M', {}).get('env', {}).get('M')
		    if env is not None:
		        break
		for key, value in sorted((env or {}).items()):
		    if not re.match(r'^\w+$', key):
		        continue
		    text = str(next(iter(value.values())))
		    if "'" in text:
		        continue
		    print(f"export {key}='{text}'")
	EOF
}

s3_exists() {
	aws s3api head-object --bucket "$1" --key "$2" > /dev/null 2>&1
}

# The bundle to install, as a key relative to $pkg_pfx. Args: version (may be empty).
select_bundle() {
	local want="$1" arch rank=0 name v
	if [ -n "$want" ]
	then
		for arch in $archs
		do
			name="lava-${want}-${os}-${arch}.tar.gz"
			s3_exists "$dist_bkt" "$pkg_pfx/$name" && echo "$name" && return 0
		done
		return 1
	fi

	# Highest version over every compatible arch; on equal versions the preferred arch.
	aws s3 ls "s3://$dist_bkt/$pkg_pfx/lava-" | awk '{print $4}' > "$TMP/listing" || return 1
	for arch in $archs
	do
		rank=$((rank + 1))
		while read -r name
		do
			# shellcheck disable=SC2254
			case "$name" in
				lava-*-${os}-${arch}.tar.gz)
					v="${name#lava-}"
					v="${v%-"${os}-${arch}".tar.gz}"
					# Reject names where the arch part only matched a longer arch (x64 in x64-baseline).
					[[ "$v" == *-* ]] && continue
					printf '%s\t%s\t%s\n' "$v" "$rank" "$name"
					;;
			esac
		done < "$TMP/listing"
	done | sort -t "$(printf '\t')" -k1,1Vr -k2,2n | head -1 | cut -f3
}

# ------------------------------------------------------------------------------
[ $# -ne 3 ] && abort "Usage: $PROG s3-source-area realm worker"

s3source="$1"
realm="$2"
worker="$3"

[[ "$s3source" =~ ^s3://([^/]+)/(.+)$ ]] || abort "Malformed s3-source-area: $s3source"
dist_bkt="${BASH_REMATCH[1]}"
dist_pfx="${BASH_REMATCH[2]%/}"

info Starting

ami=$(get_ami_type)
case "$ami" in
	lava | SAK) info "AMI type appears to be $ami" ;;
	*) abort "AMI type is $ami -- cannot handle that" ;;
esac

os=$(uname -s | tr '[:upper:]' '[:lower:]')
archs=$(arch_candidates) || abort "$(uname -m): Unknown architecture"
info "Platform is $os, bundle architectures: $archs"

systemctl enable amazon-ssm-agent
systemctl start amazon-ssm-agent

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lava-boot.XXXXXX") || abort "Cannot create a temporary directory"
z=1
trap '/bin/rm -rf "$TMP"; exit $z' 0

# ------------------------------------------------------------------------------
# Realm entry

aws dynamodb get-item --table-name "$REALMS_TABLE" \
	--key "{\"realm\": {\"S\": \"$realm\"}}" --output json > "$TMP/realm.json" \
	|| abort "Cannot read realm $realm from $REALMS_TABLE"
python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("Item") else 1)' "$TMP/realm.json" \
	|| abort "$realm: No such realm"

# ------------------------------------------------------------------------------
# Choose and install the bundle

pkg_pfx="$dist_pfx/_dist_/pkg/$os"
lava_version=$(worker_item "$worker" version)

if [ -n "$lava_version" ]
then
	info "Looking for lava v${lava_version} in s3://$dist_bkt/$pkg_pfx/"
	lava_pkg=$(select_bundle "$lava_version") \
		|| abort "Cannot find lava v${lava_version} for $os ($archs) in s3://$dist_bkt/$pkg_pfx/"
else
	info "Looking for the latest lava in s3://$dist_bkt/$pkg_pfx/"
	lava_pkg=$(select_bundle "")
	[ -z "$lava_pkg" ] && abort "Cannot find any lava bundle for $os ($archs) in s3://$dist_bkt/$pkg_pfx/"
fi
info "Selected $lava_pkg"

aws s3 cp --no-progress "s3://$dist_bkt/$pkg_pfx/$lava_pkg" "$TMP/" > /dev/null \
	|| abort "Cannot get s3://$dist_bkt/$pkg_pfx/$lava_pkg"
# The checksum file is optional; install.sh verifies the bundle when it is there.
aws s3 cp --no-progress "s3://$dist_bkt/$pkg_pfx/$lava_pkg.sha256" "$TMP/" > /dev/null 2>&1 \
	|| info "No checksum file for $lava_pkg"

tar -xzf "$TMP/$lava_pkg" -C "$TMP" install.sh || abort "Cannot extract install.sh from $lava_pkg"
chmod 700 "$TMP/install.sh"
"$TMP/install.sh" -c -d "$LAVA_BASE" -b "$LAVA_BIN" "$TMP/$lava_pkg" || abort "Lava install failed"

installed_version=$("$LAVA_BIN/lava-version") || abort "Cannot run $LAVA_BIN/lava-version"
[ -z "$installed_version" ] && abort "Cannot determine the installed lava version"
info "Installed lava v${installed_version}"

# ------------------------------------------------------------------------------
# Accounts, temporary area and daemons

getent group lava > /dev/null || groupadd lava || abort "Cannot create group lava"

# A fresh tmp area also removes any NO_DISPATCH left by lava-stop before a reboot.
/bin/rm -rf "$ROOT/tmp/lava"
mkdir -p "$ROOT/tmp/lava/$realm"
chgrp -R lava "$ROOT/tmp/lava"
chmod -R 1770 "$ROOT/tmp/lava"

workers=$(worker_item "$worker" workers)
[ -z "$workers" ] && workers="$worker"

for w in $workers
do
	# Each worker has its own account: a dispatcher's crontab belongs to that account alone.
	user="lava-$w"
	if ! getent passwd "$user" > /dev/null
	then
		info "No $user account - creating"
		useradd "$user" -g lava --system --create-home --no-user-group \
			--comment "Lava Worker $w" --shell /bin/false || abort "Cannot create user $user"
		usermod --lock "$user"
	fi
	usermod -aG docker "$user"

	extra_args="--log-json"
	threads=$(worker_item "$w" threads)
	if [ -n "$threads" ]
	then
		[[ "$threads" =~ ^[0-9]+$ ]] || abort "$threads: Bad thread count for worker $w"
		extra_args="$extra_args --threads $threads"
	fi

	daemons=$(worker_item "$w" daemons)
	[ -z "$daemons" ] && daemons=1
	[[ "$daemons" =~ ^[0-9]+$ ]] || abort "$daemons: Bad daemon count for worker $w"

	home=$(getent passwd "$user" | cut -d: -f6)
	[ -d "$home" ] || abort "No home directory for $user"

	info "Starting lava worker for realm=$realm worker=$w ($daemons daemons)"
	cat > "$home/lava.start" <<-EOF
		#!/bin/bash

		export PATH="$LAVAPATH"
		$(worker_env "$w")

		exec lava-worker \\
		    --realm "$realm" \\
		    --worker "$w" \\
		    --jump-start \\
		    --daemon \\
		    --heartbeat 60 \\
		    --tag "lava-$realm-$w" \\
		    --log @local0 \\
		    --level info \\
		    $extra_args
	EOF
	chown "$user" "$home/lava.start"
	chgrp lava "$home/lava.start"
	chmod 750 "$home/lava.start"

	n=1
	while [ "$n" -le "$daemons" ]
	do
		info "Lava worker $w: starting daemon $n of $daemons"
		(cd "$home" && sudo -Hnu "$user" ./lava.start) || abort "Lava worker $w: daemon $n of $daemons failed"
		n=$((n + 1))
	done
done

z=0
info Done
