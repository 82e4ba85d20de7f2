#!/bin/sh
# The last provisioning step, run as Packer's shutdown command: take out what
# only the build needed and every per-machine secret or identity, so each
# appliance makes its own at first boot, then power off.
set -eu
exec >/dev/console 2>&1 </dev/null
echo "vcn-finalize: start"
# Whatever happens, the VM powers off so Packer does not wait out its timeout;
# image/build.sh accepts the disk only when "vcn-finalize: done" was printed.
trap 'systemd-run --on-active=3 --timer-property=AccuracySec=1s /bin/systemctl poweroff' EXIT
export DEBIAN_FRONTEND=noninteractive
# No default passwords: root has none (locked); the console runs the TUI, not a shell.
usermod -p '!' root
# sshd was only Packer's way in; NETCONF (830) is the appliance's management API.
apt-get purge -y openssh-server openssh-sftp-server >/dev/null
apt-get autoremove --purge -y >/dev/null
rm -rf /root/.ssh /etc/ssh/sshd_config.d /etc/systemd/system/ssh.service.d /etc/ssh/ssh_host_*
dpkg-query -W -f='${Package}=${Version}\n' | sort > /etc/vcn/packages.txt
echo vcn-packages-begin; cat /etc/vcn/packages.txt; echo vcn-packages-end
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
# Identities made at first boot: machine-id (systemd), the NETCONF host key and
# the SNMP engine ID (the daemon, into the store on the data partition).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed
find /var/lib/vcn -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} +
rm -rf /var/lib/snmp/* /var/log/journal/* /tmp/* /var/tmp/*
find /var/log -type f -exec truncate -s 0 {} +
fstrim -av || true
sync
echo "vcn-finalize: done"
