#!/bin/bash
# The user-data machinery (from boot/ami): /etc/rc.local runs every /usr/local/etc/rc.d script at the end
# of boot; those read the instance's user data (shell0, swap, crontab.<user>, shell) and start the lava
# boot chain. Helper commands go to /usr/local/sbin and /usr/local/bin.
BOOT=/tmp/lava-ami/boot
install -d -m 0755 /usr/local/etc/rc.d /usr/local/sbin /usr/local/bin
install -m 0755 "$BOOT"/rc.d/* /usr/local/etc/rc.d/
for dir in sbin bin; do
    if [ -d "$BOOT/$dir" ]; then
        install -m 0755 "$BOOT/$dir"/* "/usr/local/$dir/"
    fi
done
install -m 0755 "$BOOT/rc.local" /etc/rc.d/rc.local
ln -sfn rc.d/rc.local /etc/rc.local
# systemd runs an executable /etc/rc.d/rc.local through rc-local.service; make it start after the network.
install -d -m 0755 /etc/systemd/system/rc-local.service.d
cat > /etc/systemd/system/rc-local.service.d/lava.conf <<UNIT
[Unit]
Wants=network-online.target
After=network-online.target cloud-final.service
UNIT
systemctl daemon-reload
