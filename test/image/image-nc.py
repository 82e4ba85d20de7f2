"""ncclient against the booted image over the forwarded NETCONF port (830).

usage: image-nc.py PORT USER PASSWORD commit CONFIG_XML | get
Prints one JSON object. Retries the connection until the daemon answers.
"""
import json
import sys
import time

from ncclient import manager

port, user, password, action = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
deadline = time.time() + float(sys.argv[6] if len(sys.argv) > 6 else 300)
last = None
while True:
    try:
        m = manager.connect(host="127.0.0.1", port=port, username=user, password=password,
                            hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=60)
        break
    except Exception as e:  # the daemon may still be starting
        last = e
        if time.time() > deadline:
            print(json.dumps({"error": "connect: %s" % last}))
            sys.exit(1)
        time.sleep(3)
out["session_id"] = m.session_id
# The appliance's NETCONF host key lives on vcn-data: the same after a reboot or an update.
out["hostkey"] = m._session._transport.get_remote_server_key().get_fingerprint().hex()
out["server_caps"] = [c for c in m.server_capabilities if "candidate" in c]
if action == "commit":
    with open(sys.argv[5]) as f:
        cfg = f.read()
    out["edit"] = str(m.edit_config(target="candidate", config=cfg))
    out["commit"] = str(m.commit())
out["running"] = m.get_config(source="running").data_xml
m.close_session()
print(json.dumps(out))
