"""Subscribes to the NETCONF stream, prints READY, then prints every notification as one JSON line
({"xml": ...}) until it has seen `until` (a substring) or `seconds` have passed."""
import json
import sys
import time

from nc import args, connect

a = args()
s = connect(a)
s.create_subscription()
print("READY", flush=True)
end = time.monotonic() + a.get("seconds", 30)
while time.monotonic() < end:
    n = s.take_notification(timeout=0.5)
    if not n:
        continue
    print(json.dumps({"xml": n.notification_xml}), flush=True)
    if a.get("until") and a["until"] in n.notification_xml:
        break
s.close_session()
print(json.dumps({"done": True}), flush=True)
