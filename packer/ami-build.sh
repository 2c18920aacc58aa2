#!/bin/bash
# Runs on the build instance (as ec2-user): records what the AMI is, then runs every conf.d script
# in order as root. Any failing script fails the build.
set -euo pipefail

. /etc/os-release
if [ "${ID}${VERSION_ID%%.*}" != "$AMI_OS" ]; then
    echo "Build is for $AMI_OS but this instance runs ${ID}${VERSION_ID} - abort" >&2
    exit 1
fi

# 50-lava.sh refuses to install lava on a host without this file.
sudo install -d -m 0755 /usr/local/etc
sudo tee /usr/local/etc/ami-info > /dev/null <<INFO
AMI_TYPE=lava
AMI_OS=$AMI_OS
AMI_ARCH=$AMI_ARCH
AMI_VERSION=$LAVA_VERSION
AMI_RUNTIME=bun-$BUN_VERSION
AMI_BASE=$AMI_BASE
INFO
sudo chmod 0644 /usr/local/etc/ami-info

cd /tmp/lava-ami
mkdir -p ~/packer
for script in conf.d/[0-9]*.sh; do
    echo "==== $script ===="
    sudo --preserve-env=AMI_OS,AMI_ARCH,LAVA_VERSION,BUN_VERSION,TIMEZONE,S3BUCKET,S3PREFIX,AWS_DEFAULT_REGION \
        bash -euo pipefail "$script" 2>&1 | tee -a ~/packer/build.log
done

# Keep the build inputs on the AMI, as a record of how it was made.
cp -r /tmp/lava-ami/conf.d /tmp/lava-ami/resources ~/packer/
