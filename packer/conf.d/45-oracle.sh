#!/bin/bash
# Oracle instant client (basic lite + SQL*Plus) from the build-input bucket, when it is given:
# <s3prefix>oracle/instantclient-{basiclite,sqlplus}-linux-{x64,arm64}.zip.
if [ -z "${S3BUCKET:-}" ]; then
    echo "No build-input bucket: Oracle client skipped"
    exit 0
fi
case "$AMI_ARCH" in
    x86_64) ORACLE_ARCH=x64 ;;
    arm64) ORACLE_ARCH=arm64 ;;
    *) echo "Unknown arch $AMI_ARCH" >&2; exit 1 ;;
esac
dnf -y install libaio
WORK=$(mktemp -d)
for part in basiclite sqlplus; do
    aws s3 cp "s3://$S3BUCKET/${S3PREFIX}oracle/instantclient-$part-linux-$ORACLE_ARCH.zip" "$WORK/"
    unzip -oq "$WORK/instantclient-$part-linux-$ORACLE_ARCH.zip" -d /opt/oracle
done
CLIENT=$(ls -d /opt/oracle/instantclient_* | sort -V | tail -1)
ln -sfn "$CLIENT" /opt/oracle/instantclient
echo /opt/oracle/instantclient > /etc/ld.so.conf.d/oracle-instantclient.conf
ldconfig
ln -sf /opt/oracle/instantclient/sqlplus /usr/local/bin/sqlplus
rm -rf "$WORK"
