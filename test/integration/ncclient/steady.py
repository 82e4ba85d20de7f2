"""A well-behaved session: get-config in a loop until the stop file exists (or max_s passes).

Argument: {"port", "user", "password", "stop": path, "max_s"}. Prints {"ok": n, "errors": [...], "max_ms": x, "connected": bool}.
"""
import os
import time

from ncclient import manager
from nc import args, done

a = args()
out = {"ok": 0, "errors": [], "max_ms": 0, "connected": False}
m = manager.connect(host="127.0.0.1", port=a["port"], username=a["user"], password=a["password"],
                    hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=60)
out["connected"] = True
t_end = time.time() + a["max_s"]
while not os.path.exists(a["stop"]) and time.time() < t_end:
    t0 = time.time()
    try:
        data = m.get_config(source="running").data_xml
        if "<services" in data and "<name>svc0</name>" in data:
            out["ok"] += 1
        else:
            out["errors"].append("reply without the services")
    except Exception as e:  # noqa: BLE001 - any failure counts
        out["errors"].append(f"{type(e).__name__}: {str(e)[:200]}")
        if not m.connected:
            break
    out["max_ms"] = max(out["max_ms"], round((time.time() - t0) * 1000))
    time.sleep(0.05)
if m.connected:
    m.close_session()
done(out)
