#!/bin/bash
# ------------------------------------------------------------------------------
# Installer shipped inside every lava bundle (lava-<version>-<os>-<arch>.tar.gz).
#
# Get it out of a bundle and run it:
#     tar xf lava-0.1.0-linux-x64.tar.gz install.sh
#     ./install.sh                      # help
#     ./install.sh -c lava-0.1.0-linux-x64.tar.gz
#
# It unpacks the bundle into the install directory and links the executable and
# its lava-* command names into the bin directory. The EC2 boot scriptlet runs
# it as: install.sh -c -d /opt/lava -b /usr/local/bin <bundle>
# ------------------------------------------------------------------------------

PROG=$(basename "$0")
PREFIX=/usr/local

# ------------------------------------------------------------------------------
usage() {
	cat >&2 <<EOF
Install lava from a bundle.

Usage: $PROG [-c] [-p prefix] [-b bin-dir] [-d install-dir] [-h] bundle ...

Options:
    -c              Clean install: first remove the existing install directory
                    (only if it looks like a lava install) and bin-dir/lava-*.

    -p prefix       Install under this prefix. Default $PREFIX.

    -b bin-dir      Where the lava and lava-* commands are linked.
                    Default prefix/bin.

    -d install-dir  Where the bundle is unpacked. Default prefix/lib/lava.

    -h              Print this help and exit.

    bundle          A lava bundle (lava-<version>-<os>-<arch>.tar.gz), a local
                    file or an s3:// object (needs the aws CLI). When several
                    are given, the first that exists is installed. A local
                    bundle with a <bundle>.sha256 file beside it is verified.
EOF
}

info() {
	echo "$PROG: $*"
}

warning() {
	echo "$PROG: WARNING: $*" >&2
}

abort() {
	echo "$PROG: ABORT: $*" >&2
	exit 1
}

# sha256 of a file, on Linux (sha256sum) or macOS (shasum).
sha256_of() {
	if command -v sha256sum > /dev/null 2>&1
	then
		sha256sum "$1" | awk '{print $1}'
	else
		shasum -a 256 "$1" | awk '{print $1}'
	fi
}

s3_exists() {
	local rest bucket key
	rest="${1#s3://}"
	bucket="${rest%%/*}"
	key="${rest#*/}"
	aws s3api head-object --bucket "$bucket" --key "$key" > /dev/null 2>&1
}

abspath() {
	(cd "$1" && pwd)
}

# A directory we may remove with -c: one of our installs, or the original
# Python lava's (whose installer checks for these same files).
is_lava_installdir() {
	[ -e "$1/.git" ] && return 1
	[ -f "$1/manifest.json" ] && [ -x "$1/bin/lava" ] && return 0
	[ -e "$1/lava" ] && [ -e "$1/pylib" ] && [ -e "$1/install.sh" ] && [ -e "$1/lava/version.py" ] && return 0
	return 1
}

# ------------------------------------------------------------------------------
clean=
lava_bin=
lava_base=
while getopts "cp:b:d:h" opt
do
	case "$opt" in
		c) clean=yes ;;
		p) PREFIX="$OPTARG" ;;
		b) lava_bin="$OPTARG" ;;
		d) lava_base="$OPTARG" ;;
		h) usage; exit 0 ;;
		*) usage; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

[ $# -eq 0 ] && usage && exit 1

[ -z "$lava_bin" ] && lava_bin="$PREFIX/bin"
[ -z "$lava_base" ] && lava_base="$PREFIX/lib/lava"

# ------------------------------------------------------------------------------
# Find the bundle: the first argument that exists.
TMP=
z=1
trap '[ -n "$TMP" ] && /bin/rm -rf "$TMP"; exit $z' 0

pkg=
for loc
do
	if [[ "$loc" =~ ^s3:// ]]
	then
		s3_exists "$loc" || continue
		TMP=$(mktemp -d "${TMPDIR:-/tmp}/lava-install.XXXXXX") || abort "Cannot create a temporary directory"
		info "Getting $loc"
		aws s3 cp --no-progress "$loc" "$TMP/" > /dev/null || abort "Cannot download $loc"
		pkg="$TMP/$(basename "$loc")"
		break
	elif [ -f "$loc" ]
	then
		pkg="$loc"
		break
	fi
done

[ -z "$pkg" ] && abort "No bundle found among: $*"
[[ "$pkg" =~ \.tar\.gz$ ]] || abort "$pkg is not a lava bundle (expected .tar.gz)"
info "Bundle is $pkg"

if [ -f "$pkg.sha256" ]
then
	expected=$(awk '{print $1; exit}' "$pkg.sha256")
	actual=$(sha256_of "$pkg")
	[ "$expected" = "$actual" ] || abort "Checksum mismatch for $pkg: expected $expected, got $actual"
	info "Checksum verified"
fi

# ------------------------------------------------------------------------------
if [ "$clean" = "yes" ] && [ -e "$lava_base" ]
then
	is_lava_installdir "$lava_base" || abort "$lava_base exists and does not look like a lava install directory"
	info "Cleaning $lava_base and $lava_bin/lava-*"
	/bin/rm -rf "$lava_base" || abort "Cannot remove $lava_base"
	/bin/rm -f "$lava_bin"/lava-* || abort "Cannot remove $lava_bin/lava-*"
	[ -L "$lava_bin/lava" ] && /bin/rm -f "$lava_bin/lava"
fi

umask 022
mkdir -p "$lava_base" || abort "Cannot create $lava_base"
mkdir -p "$lava_bin" || abort "Cannot create $lava_bin"

info "Unpacking into $lava_base"
tar --no-same-owner -C "$lava_base" -xzf "$pkg" || abort "Cannot unpack $pkg"
[ -x "$lava_base/bin/lava" ] || abort "$pkg holds no bin/lava"

# The manifest records the executable's checksum: catches a truncated or altered bundle.
want=$(sed -n 's/^ *"sha256": *"\([0-9a-f]*\)".*/\1/p' "$lava_base/manifest.json" | head -1)
have=$(sha256_of "$lava_base/bin/lava")
[ -n "$want" ] && [ "$want" != "$have" ] && abort "bin/lava does not match the manifest checksum"

lava_abs=$(abspath "$lava_base")
info "Linking commands into $lava_bin"
for cmd in "$lava_abs"/bin/lava "$lava_abs"/bin/lava-*
do
	[ -e "$cmd" ] || continue
	name=$(basename "$cmd")
	# Never replace a real file someone put there; our links are fair game.
	if [ -e "$lava_bin/$name" ] && [ ! -L "$lava_bin/$name" ]
	then
		warning "$lava_bin/$name exists and is not a link: left alone"
		continue
	fi
	ln -sfn "$cmd" "$lava_bin/$name" || abort "Cannot link $lava_bin/$name"
done

if version=$("$lava_abs/bin/lava" version 2> /dev/null)
then
	info "Installed lava $version"
else
	warning "Installed, but $lava_abs/bin/lava does not run on this machine (wrong architecture, or an x64 CPU without AVX2 that needs the x64-baseline bundle?)"
fi

z=0
