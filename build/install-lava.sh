#!/bin/bash
# ------------------------------------------------------------------------------
# Desktop installer for lava: picks the bundle for this OS and CPU, checks its
# SHA-256 and installs it with the bundle's own install.sh.
#
#   curl -fsSL https://example.com/lava/install-lava.sh | bash -s -- https://example.com/lava/pkg
#   bash install-lava.sh -v 0.1.0 s3://my-bucket/lava/_dist_/pkg
#
# The location holds the build's pkg/ layout:
#     <location>/<os>/lava-<version>-<os>-<arch>.tar.gz
#     <location>/<os>/lava-<version>-<os>-<arch>.tar.gz.sha256
#     <location>/<os>/LATEST        the newest version (used when -v is not given
#                                   and the location is not s3://)
# Locations: https://, http://, file:// (curl) or s3:// (aws CLI; without -v the
# highest version there is chosen).
# ------------------------------------------------------------------------------

PROG=install-lava.sh

usage() {
	cat >&2 <<EOF
Install lava on this machine.

Usage: $PROG [-v version] [-p prefix] [-c] [-h] location

Options:
    -v version   Version to install. Default: the newest at the location.
    -p prefix    Install prefix: commands in prefix/bin, files in prefix/lib/lava.
                 Default /usr/local when run as root, else \$HOME/.local.
    -c           Clean install (remove the previous install first).
    -h           Print this help and exit.

    location     Where the bundles are: https://..., file://... or s3://...
EOF
}

abort() {
	echo "$PROG: $*" >&2
	exit 1
}

info() {
	echo "$PROG: $*"
}

sha256_of() {
	if command -v sha256sum > /dev/null 2>&1
	then
		sha256sum "$1" | awk '{print $1}'
	else
		shasum -a 256 "$1" | awk '{print $1}'
	fi
}

# Bundle arch keys for this machine, preferred first.
arch_candidates() {
	case "$(uname -m)" in
		x86_64 | amd64)
			if [ "$os" = linux ] && ! grep -qw avx2 /proc/cpuinfo 2> /dev/null
			then
				echo "x64-baseline"
			elif [ "$os" = linux ]
			then
				echo "x64 x64-baseline"
			else
				echo "x64"
			fi
			;;
		aarch64 | arm64) echo "arm64" ;;
		*) return 1 ;;
	esac
}

# fetch <location-relative path> <local file>
fetch() {
	case "$location" in
		s3://*) aws s3 cp --no-progress "$location/$1" "$2" > /dev/null 2>&1 ;;
		*) curl -fsSL -o "$2" "$location/$1" 2> /dev/null ;;
	esac
}

# Highest version in an s3:// location for one arch.
s3_latest() {
	aws s3 ls "$location/$os/lava-" | awk '{print $4}' | while read -r name
	do
		case "$name" in
			lava-*-"$os-$1".tar.gz)
				v="${name#lava-}"
				v="${v%-"$os-$1".tar.gz}"
				[[ "$v" == *-* ]] || echo "$v"
				;;
		esac
	done | sort -rV | head -1
}

# ------------------------------------------------------------------------------
version=
prefix=
clean=
while getopts "v:p:ch" opt
do
	case "$opt" in
		v) version="$OPTARG" ;;
		p) prefix="$OPTARG" ;;
		c) clean=-c ;;
		h) usage; exit 0 ;;
		*) usage; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ne 1 ] && usage && exit 2
location="${1%/}"

if [ -z "$prefix" ]
then
	if [ "$(id -u)" -eq 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$os" in
	linux | darwin) ;;
	*) abort "No lava bundles for $os" ;;
esac
archs=$(arch_candidates) || abort "No lava bundles for $(uname -m)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-lava.XXXXXX") || abort "Cannot create a temporary directory"
trap '/bin/rm -rf "$WORK"' 0

if [ -z "$version" ]
then
	case "$location" in
		s3://*)
			for arch in $archs
			do
				v=$(s3_latest "$arch")
				[ -n "$v" ] && printf '%s\n' "$v"
			done | sort -rV > "$WORK/versions"
			version=$(head -1 "$WORK/versions")
			;;
		*)
			fetch "$os/LATEST" "$WORK/LATEST" && version=$(tr -d '[:space:]' < "$WORK/LATEST")
			;;
	esac
	[ -z "$version" ] && abort "Cannot find the latest version at $location/$os/ (use -v)"
fi

bundle=
for arch in $archs
do
	name="lava-$version-$os-$arch.tar.gz"
	if fetch "$os/$name" "$WORK/$name"
	then
		bundle="$WORK/$name"
		break
	fi
done
[ -z "$bundle" ] && abort "No lava $version bundle for $os ($archs) at $location/$os/"

fetch "$os/$name.sha256" "$WORK/$name.sha256" || abort "No checksum file $location/$os/$name.sha256"
expected=$(awk '{print $1; exit}' "$WORK/$name.sha256")
actual=$(sha256_of "$bundle")
[ "$expected" = "$actual" ] || abort "Checksum mismatch for $name: expected $expected, got $actual"
info "Downloaded $name (sha256 verified)"

tar -xzf "$bundle" -C "$WORK" install.sh || abort "Cannot extract install.sh from $name"
# shellcheck disable=SC2086
bash "$WORK/install.sh" $clean -p "$prefix" "$bundle" || abort "Install failed"

case ":$PATH:" in
	*":$prefix/bin:"*) ;;
	*) info "Add $prefix/bin to your PATH to use lava" ;;
esac
