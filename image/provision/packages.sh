#!/bin/sh
# Installs the appliance's Debian packages inside the build VM, offline: the
# .debs were downloaded by image/build-base.sh against the base's package lists.
set -eu
export DEBIAN_FRONTEND=noninteractive
cp /tmp/debs/*.deb /var/cache/apt/archives/
# Debian's snmpd would start its own agent; the daemon runs snmpd itself with
# the configuration committed under system/snmp, so the packaged unit stays off.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get install -y --no-download --no-install-recommends $(grep -v '^\s*#' /tmp/vcn-packages.txt)
rm -f /usr/sbin/policy-rc.d
systemctl disable snmpd.service 2>/dev/null || true
systemctl mask snmpd.service snmptrapd.service 2>/dev/null || true
rm -rf /tmp/debs
