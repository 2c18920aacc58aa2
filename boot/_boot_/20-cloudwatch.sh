#!/bin/bash
# ------------------------------------------------------------------------------
# Boot scriptlet: ship /var/log/lava to CloudWatch Logs.
#
# Usage: 20-cloudwatch.sh s3-source-area realm worker
#
# Workers log to syslog facility local0, which rsyslog (set up by the AMI)
# writes to /var/log/lava. This adds that file to the CloudWatch agent as
#     log group  /var/log/lava/<realm>
#     log stream <worker>/<instance id>
# and reloads the agent. The worker heartbeat alarm reads that log group.
#
# Never exits 1: a logging problem must not stop lava being installed.
# LAVA_BOOT_ROOT (tests only) prefixes the file system paths used here.
# ------------------------------------------------------------------------------

PROG=$(basename "$0")
ROOT="${LAVA_BOOT_ROOT:-}"
CWATCH_AGENT_DIR="$ROOT/opt/aws/amazon-cloudwatch-agent"
CWATCH_AGENT_CONF="$CWATCH_AGENT_DIR/etc/config.json"
CWATCH_AGENT_CTL="$CWATCH_AGENT_DIR/bin/amazon-cloudwatch-agent-ctl"

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
	exit 2
}

[ $# -ne 3 ] && abort "Usage: $PROG s3-source-area realm worker"
realm="$2"
worker="$3"

[ -f "$CWATCH_AGENT_CONF" ] || abort "No such file: $CWATCH_AGENT_CONF"
info "Updating CloudWatch agent configuration $CWATCH_AGENT_CONF"
cp "$CWATCH_AGENT_CONF" "$CWATCH_AGENT_CONF.orig" || abort "Cannot back up $CWATCH_AGENT_CONF"

# Idempotent: a reboot runs this again, and the entry must not be added twice.
python3 - "$CWATCH_AGENT_CONF.orig" "$realm" "$worker" > "$CWATCH_AGENT_CONF" <<'PY' || abort "Cannot update $CWATCH_AGENT_CONF"
import json, sys
path, realm, worker = sys.argv[1:4]
conf = json.load(open(path))
files = conf.setdefault('logs', {}).setdefault('logs_collected', {}).setdefault('files', {})
collect = files.setdefault('collect_list', [])
entry = {
    'file_path': '/var/log/lava',
    'log_group_name': f'/var/log/lava/{realm}',
    'log_stream_name': f'{worker}/{{instance_id}}',
}
collect[:] = [c for c in collect if c.get('file_path') != '/var/log/lava']
collect.append(entry)
json.dump(conf, sys.stdout, indent=2)
print()
PY

info "Reloading the CloudWatch agent"
"$CWATCH_AGENT_CTL" -a fetch-config -m ec2 -c "file:$CWATCH_AGENT_CONF" -s || abort "CloudWatch agent reload failed"
exit 0
