#!/bin/sh
# Installs the bundled application (image/bundle.sh) and turns on its units.
set -eu
tar -xf /tmp/vcn-bundle.tar -C / --no-same-owner
rm -f /tmp/vcn-bundle.tar
ln -sf /opt/vcn/node/bin/node /usr/local/bin/node
/opt/vcn/node/bin/node -e "require('/opt/vcn/app/node_modules/better-sqlite3')(':memory:').prepare('select 1').get()"
/usr/local/bin/vcn help >/dev/null
systemctl daemon-reload
systemctl enable vcnd.service serial-getty@ttyS0.service
cat /etc/vcn/release
