#!/bin/bash
# Trust stores for TLS database connections: the RDS global bundle and the Redshift CA bundle, kept in
# /usr/local/etc/certs (connections name them as their CA file) and added to the system trust store.
CERTS=/usr/local/etc/certs
install -d -m 0755 "$CERTS"
curl -fsSL --retry 3 -o "$CERTS/rds-global-bundle.pem" https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
curl -fsSL --retry 3 -o "$CERTS/redshift-ca-bundle.crt" https://s3.amazonaws.com/redshift-downloads/amazon-trust-ca-bundle.crt
chmod 0644 "$CERTS"/*
cp "$CERTS/rds-global-bundle.pem" /etc/pki/ca-trust/source/anchors/rds-global-bundle.pem
cp "$CERTS/redshift-ca-bundle.crt" /etc/pki/ca-trust/source/anchors/redshift-ca-bundle.crt
update-ca-trust extract
