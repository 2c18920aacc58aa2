#!/bin/bash
# Operating system updates and the packages lava jobs and the boot chain use.
dnf -y upgrade --refresh
# Database clients: psql, mysql (MariaDB), MSSQL through unixODBC + FreeTDS.
# Boot chain and jobs: cron, rsyslog, jq, bzip2 (bundles), unzip, sudo, awscli.
dnf -y install \
    postgresql16 mariadb105 unixODBC freetds \
    docker amazon-cloudwatch-agent amazon-ssm-agent \
    cronie rsyslog jq bzip2 tar gzip unzip sudo awscli-2 \
    ca-certificates openssl python3 logrotate dnf-utils
