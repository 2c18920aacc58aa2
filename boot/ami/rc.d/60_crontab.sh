#!/bin/bash
# ------------------------------------------------------------------------------
# Install crontabs named in the user data, one per OS user:
#
#   { "crontab": { "ec2-user": "s3://bucket/ec2-user.cron", "root": "s3://bucket/root.cron" } }
#
# Each value must be an S3 object, fetched in the instance's own region (nothing
# has configured a region for the CLI this early in the boot). One bad entry does
# not stop the others; the status is 1 if any failed.
# ------------------------------------------------------------------------------

ROOT="${LAVA_BOOT_ROOT:-}"
TAG=rclocal.crontab
export PATH="$PATH:$ROOT/usr/local/sbin"

log() {
	logger -t "$TAG" -p "local0.$1" "$2"
}

install_crontab() {
	local user="$1" source="$2" tmp err
	[[ "$source" =~ ^s3://. ]] || { log error "Crontab for $user: $source is not an s3:// object"; return 1; }
	tmp=$(mktemp "${TMPDIR:-/tmp}/crontab.XXXXXX") || return 1
	if ! err=$(aws s3 cp --no-progress --region "$region" "$source" "$tmp" 2>&1)
	then
		log error "Cannot get $source: $err"
		rm -f "$tmp"
		return 1
	fi
	if ! err=$(crontab -u "$user" "$tmp" 2>&1)
	then
		log error "Cannot install the crontab of $user: $err"
		rm -f "$tmp"
		return 1
	fi
	rm -f "$tmp"
	log info "Crontab for user $user installed"
}

entries=$(userdata-key crontab 2>&1) || { log error "Bad user data: $entries"; exit 1; }
[ -z "$entries" ] && exit 0

az=$(ec2-metadata --availability-zone 2> /dev/null | sed -e '1s/^[^:]*: *//')
region="${az%[a-z]}"
[[ "$region" =~ ^[a-z]{2}(-[a-z]+)?-[a-z]+-[0-9]+$ ]] || { log error "Cannot get the AWS region (availability zone: $az)"; exit 1; }

status=0
while IFS= read -r line
do
	user="${line%%=*}"
	source="${line#*=}"
	if [ -z "$user" ] || [ "$user" = "$line" ]
	then
		log error "Cannot read crontab entry: $line"
		status=1
		continue
	fi
	install_crontab "$user" "$source" || status=1
done <<< "$entries"
exit $status
