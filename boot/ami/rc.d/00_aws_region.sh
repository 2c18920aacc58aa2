#!/bin/bash
# ------------------------------------------------------------------------------
# Write the instance's region to the AWS CLI config used by boot scripts.
# IMDS (v2 especially) can take a moment after boot, hence the retries.
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

BACKOFF=(0 5 5 10 10 30)
ROOT="${LAVA_BOOT_ROOT:-}"
TAG=rclocal.aws_region

log() {
	logger -t "$TAG" -p "local0.$1" "$2"
}

region=
for pause in "${BACKOFF[@]}"
do
	[ "$pause" -ne 0 ] && log warning "Retrying in $pause seconds" && sleep "$pause"
	az=$(ec2-metadata --availability-zone 2> /dev/null | sed -e '1s/^[^:]*: *//')
	if [[ ! "$az" =~ ^[a-z]{2}(-[a-z]+)?-[a-z]+-[0-9]+[a-z]$ ]]
	then
		log warning "Availability zone not available or malformed: $az"
		continue
	fi
	region="${az%?}"
	break
done

[ -z "$region" ] && log error "Could not get the AWS region" && exit 1
log info "Setting region to $region"

mkdir -p "$ROOT/usr/local/etc/aws"
cat > "$ROOT/usr/local/etc/aws/config" <<CONF
[default]
region = $region
metadata_service_num_attempts = 5
metadata_service_timeout = 5
s3 =
    signature_version = s3v4
CONF
chmod 644 "$ROOT/usr/local/etc/aws/config"
